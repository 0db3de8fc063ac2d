"""Pod Identity role trust, as STS would evaluate it for the session tags EKS Pod Identity sends.

EKS Pod Identity assumes an association's role with the session tags eks-cluster-name,
kubernetes-namespace and kubernetes-service-account (EKS User Guide "pod-id-abac"); a trust policy
scoped by `aws:RequestTag/<key>` conditions (EKS User Guide "pod-id-role") admits only the pods it
names. Read from the offline runs: every association the program makes (its own, and the EBS CSI
add-on's, which runs in kube-system) is admitted by its role, and by no other Pod Identity role.
"""

from __future__ import annotations

import json

import pytest

from components.pod_identity import pod_identity_trust_policy

ACCOUNT = "123456789012"
ROLE = "aws:iam/role:Role"
ASSOCIATION = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
ADDON = "aws:eks/addon:Addon"
ADDON_NAMESPACE = "kube-system"  # where the EKS add-ons the program installs run, except:
ADDON_NAMESPACES = {"amazon-cloudwatch-observability": "amazon-cloudwatch"}  # its own namespace (CloudWatch docs)


def _values(value) -> list[str]:
    return value if isinstance(value, list) else [value]


def admits(trust: dict, account: str, cluster: str, namespace: str, service_account: str) -> bool:
    """Whether an Allow statement for pods.eks.amazonaws.com matches the request: each StringEquals
    key must equal one of its values (the only operator the program uses; any other fails closed)."""
    context = {
        "aws:SourceAccount": account,
        "aws:RequestTag/eks-cluster-name": cluster,
        "aws:RequestTag/kubernetes-namespace": namespace,
        "aws:RequestTag/kubernetes-service-account": service_account,
    }
    for statement in trust["Statement"]:
        if statement["Effect"] != "Allow" or statement["Principal"] != {"Service": "pods.eks.amazonaws.com"}:
            continue
        if not {"sts:AssumeRole", "sts:TagSession"} <= set(_values(statement["Action"])):
            continue
        condition = statement.get("Condition", {})
        if set(condition) - {"StringEquals"}:
            continue
        if all(context.get(key) in _values(values) for key, values in condition.get("StringEquals", {}).items()):
            return True
    return False


def associations(run) -> list[tuple[str, str, str, str]]:
    """(role ARN, cluster, namespace, service account) of every Pod Identity association in the run."""
    found = [
        (r.inputs["roleArn"], r.inputs["clusterName"], r.inputs["namespace"], r.inputs["serviceAccount"])
        for r in run.of_type(ASSOCIATION)
    ]
    for addon in run.of_type(ADDON):
        for association in addon.inputs.get("podIdentityAssociations") or []:
            namespace = ADDON_NAMESPACES.get(addon.inputs["addonName"], ADDON_NAMESPACE)
            found.append((association["roleArn"], addon.inputs["clusterName"], namespace, association["serviceAccount"]))
    return found


def pod_roles(run) -> dict[str, dict]:
    """Role ARN -> trust policy, for the roles Pod Identity may assume."""
    return {
        r.outputs["arn"]: json.loads(r.inputs["assumeRolePolicy"])
        for r in run.of_type(ROLE)
        if "pods.eks.amazonaws.com" in r.inputs["assumeRolePolicy"]
    }


def test_each_association_is_admitted_by_its_role_only(stack_run):
    roles, used = pod_roles(stack_run), associations(stack_run)
    assert len(roles) >= 4 and {arn for arn, *_ in used} == set(roles)
    for role_arn, cluster, namespace, account in used:
        for arn, trust in roles.items():
            assert admits(trust, ACCOUNT, cluster, namespace, account) == (arn == role_arn), (arn, namespace, account)


def test_trust_refuses_other_clusters_namespaces_and_accounts(stack_run):
    cluster = stack_run.outputs["clusterName"]
    for role_arn, _, namespace, account in associations(stack_run):
        trust = pod_roles(stack_run)[role_arn]
        assert admits(trust, ACCOUNT, cluster, namespace, account)
        assert not admits(trust, ACCOUNT, cluster + "-other", namespace, account)
        assert not admits(trust, ACCOUNT, cluster, "default", account)
        assert not admits(trust, ACCOUNT, cluster, namespace, "default")
        assert not admits(trust, "210987654321", cluster, namespace, account)


def test_one_statement_per_namespace_keeps_pairs_apart():
    """Two namespaces with different service accounts: neither namespace gets the other's account."""
    trust = pod_identity_trust_policy(ACCOUNT, "c", [("a", "x"), ("b", "y"), ("a", "z")])
    assert admits(trust, ACCOUNT, "c", "a", "x") and admits(trust, ACCOUNT, "c", "a", "z")
    assert admits(trust, ACCOUNT, "c", "b", "y")
    assert not admits(trust, ACCOUNT, "c", "a", "y") and not admits(trust, ACCOUNT, "c", "b", "x")


def test_a_role_for_nobody_is_refused():
    with pytest.raises(ValueError, match="namespace, service account"):
        pod_identity_trust_policy(ACCOUNT, "c", [])
