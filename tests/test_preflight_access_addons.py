"""Preflight: the access entries' principals exist (moto IAM), and every EKS add-on the program
installs is offered for the cluster's version in the region (Stubber: moto lacks
DescribeAddonVersions)."""

from __future__ import annotations

import boto3

from preflight_cases import aws_env, moto_aws, stubs  # noqa: F401 - fixtures (the first two autouse)
from preflight_cases import MOTO_ACCOUNT, aws, make_target
from tools.preflight.access import check_access_principals
from tools.preflight.eks import check_eks_addons

ADMIN = f"arn:aws:iam::{MOTO_ACCOUNT}:role/platform/ops-admin"


def _existing_role() -> str:
    iam = boto3.client("iam", region_name="us-east-1")
    try:
        return iam.create_role(RoleName="ops-admin", Path="/platform/", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        return iam.get_role(RoleName="ops-admin")["Role"]["Arn"]


def test_existing_principals_pass_and_a_missing_one_fails_naming_its_key():
    """EKS takes an access entry only for an existing principal: a role that is not there (the
    committed stack files' example `platform-admin`) fails before `pulumi up`, with its settings key."""
    assert _existing_role() == ADMIN
    missing = f"arn:aws:iam::{MOTO_ACCOUNT}:role/platform-admin"
    target = make_target(access_principals=(("cluster.adminPrincipals[0]", ADMIN),
                                            ("cluster.readerPrincipals[0]", missing)))
    found, absent = check_access_principals(target, aws("us-east-1"))
    assert found.passed, found.line()
    assert not absent.passed and "platform-admin" in absent.detail and "does not exist" in absent.detail
    assert "cluster.readerPrincipals[0]" in absent.fix


def test_the_documentation_account_fails_another_account_is_not_checked(stubs):
    """The caller is in another account than moto's (STS answered by Stubber)."""
    clients = aws("us-east-1")
    stubs(clients, "sts").add_response(
        "get_caller_identity", {"Account": "444455556666", "Arn": "arn:aws:iam::444455556666:user/me", "UserId": "X"})
    other = "arn:aws:iam::111122223333:role/readers"
    example = "arn:aws:iam::123456789012:role/platform-admin"
    cross, doc = check_access_principals(
        make_target(access_principals=(("cluster.readerPrincipals[0]", other), ("cluster.adminPrincipals[0]", example))),
        clients)
    assert cross.passed and "not checked" in cross.detail
    assert not doc.passed and "documentation example account" in doc.detail


def _addons(*entries) -> dict:
    return {"addons": [{"addonName": name, "addonVersions": [{"addonVersion": v} for v in versions]}
                       for name, versions in entries]}


CATALOG = _addons(("vpc-cni", ["v1.20.4-eksbuild.1"]), ("metrics-server", ["v0.8.0-eksbuild.1", "v0.8.0-eksbuild.2"]))


def test_every_addon_offered_passes(stubs):
    clients = aws("us-east-1")
    stubs(clients, "eks").add_response("describe_addon_versions", CATALOG, {"kubernetesVersion": "1.35"})
    results = check_eks_addons(make_target(eks_addons=("vpc-cni", "metrics-server")), clients)
    assert [r.passed for r in results] == [True, True], [r.line() for r in results]


def test_an_addon_the_region_lacks_fails_before_pulumi_up(stubs):
    """metrics-server (a community add-on) was not offered in GovCloud and China (eksctl-io/eksctl#8146):
    CreateAddon would fail after the control plane and the system nodes exist."""
    clients = aws("us-gov-west-1")
    stubs(clients, "eks").add_response("describe_addon_versions", _addons(("vpc-cni", ["v1.20.4-eksbuild.1"])),
                                       {"kubernetesVersion": "1.35"})
    cni, metrics = check_eks_addons(make_target(region="us-gov-west-1", eks_addons=("vpc-cni", "metrics-server")),
                                    clients)
    assert cni.passed
    assert not metrics.passed and "no metrics-server add-on" in metrics.detail and "us-gov-west-1" in metrics.detail


def test_a_pin_the_region_does_not_offer_names_the_newest(stubs):
    clients = aws("us-east-1")
    stubs(clients, "eks").add_response("describe_addon_versions", CATALOG, {"kubernetesVersion": "1.35"})
    [result] = check_eks_addons(make_target(eks_addons=("metrics-server",),
                                            addon_versions=(("metrics-server", "v0.7.0-eksbuild.9"),)), clients)
    assert not result.passed and "v0.7.0-eksbuild.9" in result.detail
    assert "cluster.addonVersions.metrics-server' v0.8.0-eksbuild.2" in result.fix


def test_an_update_by_someone_who_is_neither_creator_nor_admin_fails(stubs):
    """Only the creator has the access entry EKS made: another caller needs an admin entry, or the
    update's Kubernetes calls are Unauthorized. A session ARN counts as its role, whatever the path."""
    creator = f"arn:aws:iam::{MOTO_ACCOUNT}:role/ci-deployer"
    alice = f"arn:aws:sts::{MOTO_ACCOUNT}:assumed-role/ops-admin/alice"
    _existing_role()
    admin_entry = (("cluster.adminPrincipals[0]", ADMIN),)
    [listed, _] = check_access_principals(make_target(creator_principal=creator, access_principals=admin_entry),
                                          _as_caller(stubs, alice))
    [creator_runs] = check_access_principals(make_target(creator_principal=creator),
                                             _as_caller(stubs, f"arn:aws:sts::{MOTO_ACCOUNT}:assumed-role/ci-deployer/run"))
    [unlisted] = check_access_principals(make_target(creator_principal=creator), _as_caller(stubs, alice))
    assert listed.passed and creator_runs.passed, (listed.line(), creator_runs.line())
    assert not unlisted.passed and "Unauthorized" in unlisted.detail
    assert "cluster.adminPrincipals[0]" in unlisted.fix


def _as_caller(stubs, arn):
    """Clients whose STS says the caller is `arn` (Stubber)."""
    clients = aws("us-east-1")
    stubs(clients, "sts").add_response("get_caller_identity", {"Account": MOTO_ACCOUNT, "UserId": "X", "Arn": arn})
    return clients


def test_the_container_logs_addon_and_its_pin_are_checked_only_when_logs_ship(stubs):
    """amazon-cloudwatch-observability is an add-on the program installs (monitoring.logs): a pin the
    region does not offer fails before `pulumi up`; with logs off it is not asked for."""
    from preflight_cases import fake_settings  # noqa: PLC0415
    from tools.preflight.context import target_from_settings  # noqa: PLC0415

    pin = "v4.1.0-eksbuild.1"
    shipping = target_from_settings(fake_settings(addon_versions={"amazon-cloudwatch-observability": pin}))
    assert "amazon-cloudwatch-observability" in shipping.eks_addons
    assert "amazon-cloudwatch-observability" not in target_from_settings(fake_settings(logs=False)).eks_addons
    clients = aws("us-east-1")
    offered = _addons(("amazon-cloudwatch-observability", ["v4.2.0-eksbuild.1", "v4.3.0-eksbuild.1"]))
    stubs(clients, "eks").add_response("describe_addon_versions", offered, {"kubernetesVersion": "1.35"})
    [result] = [r for r in check_eks_addons(shipping, clients) if r.name == "eks-addon amazon-cloudwatch-observability"]
    assert not result.passed and pin in result.detail
    assert "cluster.addonVersions.amazon-cloudwatch-observability' v4.3.0-eksbuild.1" in result.fix


def test_the_efs_driver_is_asked_for_only_with_the_efs_cache():
    """__main__.py installs aws-efs-csi-driver only with modelCache.kind efs and a model to cache:
    preflight does not fail an EBS-cache stack on an add-on it never installs."""
    from preflight_cases import fake_settings  # noqa: PLC0415
    from tools.preflight.context import target_from_settings  # noqa: PLC0415

    assert "aws-efs-csi-driver" in target_from_settings(fake_settings()).eks_addons
    assert "aws-efs-csi-driver" not in target_from_settings(fake_settings(model_cache="ebs")).eks_addons
    no_models = fake_settings()
    no_models.models = []
    assert "aws-efs-csi-driver" not in target_from_settings(no_models).eks_addons
