"""The AWS Load Balancer Controller: pinned chart/app/image, its role's policy is the published
file for that version (valid for iam-validator), and the Helm values the program sends."""

from __future__ import annotations

import json

import pytest
import yaml

from components.front_door import controller as lbc
from tests.test_iam_rendered import LB_CONTROLLER, VALIDATOR_CONFIG
from tools import iam_validation as iv

RELEASE = "kubernetes:helm.sh/v3:Release"


@pytest.fixture(scope="module")
def services_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("aws-services-lbc")


def test_chart_app_image_and_policy_file_are_one_version():
    assert lbc.CHART_VERSION == lbc.CONTROLLER_VERSION.lstrip("v")  # chart 3.5.0 ships appVersion v3.5.0
    assert lbc.IMAGE.endswith(f":{lbc.CONTROLLER_VERSION}")
    readme = (lbc.FILES / "README.md").read_text()
    for name in lbc.POLICY_FILES.values():
        assert lbc.CONTROLLER_VERSION in name and name in readme
        assert (lbc.FILES / name).is_file()
    assert f"tag {lbc.CONTROLLER_VERSION}" in readme


def test_partition_policies_use_their_partition():
    assert "arn:aws-cn:" not in json.dumps(lbc.controller_policy("aws"))
    cn = json.dumps(lbc.controller_policy("aws-cn"))
    assert "arn:aws-cn:" in cn and "arn:aws:" not in cn
    with pytest.raises(ValueError, match="aws-us-gov"):
        lbc.controller_policy("aws-us-gov")


@pytest.mark.usefixtures("no_network")
def test_published_policy_is_valid_and_only_best_practice_findings_are_ignored(services_dir):
    """With iam-validator's defaults the file has only wildcard/sensitive findings (no unknown
    action, resource or condition key); under the project's config it is clean; a typo'd action
    is still reported under that config."""
    policy = lbc.controller_policy("aws")
    name = "dev/identity/-/genai-dev-front-door-lb-controller-policy"
    defaults = iv.validate_policies([(name, policy, "identity")], services_dir)[name]
    assert defaults and {f["check_id"] for f in defaults} == {"wildcard_resource", "sensitive_action"}
    assert iv.validate_policies([(name, policy, "identity")], services_dir, config=VALIDATOR_CONFIG)[name] == []
    broken = json.loads(json.dumps(policy))
    broken["Statement"][0]["Action"] = ["iam:CreateServiceLinkedRolez"]
    findings = iv.validate_policies([(name, broken, "identity")], services_dir, config=VALIDATOR_CONFIG)[name]
    assert any(f["severity"] == "error" for f in findings), findings
    # The ignore applies to this one policy name only
    other = "dev/identity/-/genai-dev-langfuse-s3-policy"
    assert iv.validate_policies([(other, policy, "identity")], services_dir, config=VALIDATOR_CONFIG)[other]
    assert __import__("re").match(LB_CONTROLLER, name)


def test_rendered_role_policy_is_the_published_file(dev):
    (policy,) = [r for r in dev.of_type("aws:iam/rolePolicy:RolePolicy") if r.name.endswith("-lb-controller-policy")]
    assert json.loads(policy.inputs["policy"]) == lbc.controller_policy("aws")
    # kube-system holds other add-ons' associations too (autoscaler, observability): this one's role is the controller's
    (association,) = [r for r in dev.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
                      if r.inputs["namespace"] == lbc.NAMESPACE and r.inputs["serviceAccount"] == lbc.SERVICE_ACCOUNT]
    assert "lb-controller" in association.name
    role = next(r for r in dev.of_type("aws:iam/role:Role") if r.name.endswith("-lb-controller-role"))
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert [s["Condition"]["StringEquals"]["aws:RequestTag/kubernetes-service-account"] for s in trust] == [[lbc.SERVICE_ACCOUNT]]


def test_release_is_pinned_and_values_match_the_role_and_cluster(dev):
    (release,) = [r for r in dev.of_type(RELEASE) if r.inputs["chart"] == lbc.CHART]
    inputs = release.inputs
    assert (inputs["chart"], inputs["version"], inputs["namespace"]) == (lbc.CHART, "3.5.0", "kube-system")
    assert inputs["repositoryOpts"]["repo"] == "https://aws.github.io/eks-charts"
    values = inputs["values"]
    assert values["serviceAccount"] == {"create": True, "name": lbc.SERVICE_ACCOUNT}
    assert values["clusterName"] == "genai-dev" and values["region"] == "us-east-1"
    assert values["vpcId"].startswith("vpc-")
    assert values["image"] == {"repository": "public.ecr.aws/eks/aws-load-balancer-controller", "tag": "v3.5.0"}
    assert values["defaultTargetType"] == "ip"
    assert values["createIngressClassResource"] is False and values["ingressClassParams"] == {"create": False}
    assert values["enableServiceMutatorWebhook"] is False
    assert values["replicaCount"] == 2 and values["podDisruptionBudget"] == {"maxUnavailable": 1}
    # Every key is a top-level key of the chart's values.yaml at 3.5.0 (no silently ignored typo)
    assert set(values) <= CHART_VALUE_KEYS


# Top-level keys of helm/aws-load-balancer-controller/values.yaml at v3.5.0 that the program may set
CHART_VALUE_KEYS = set(yaml.safe_load("""
[replicaCount, image, serviceAccount, resources, podDisruptionBudget, clusterName, region, vpcId,
 createIngressClassResource, ingressClassParams, defaultTargetType, enableServiceMutatorWebhook,
 defaultTags, nodeSelector, tolerations, priorityClassName]
"""))

