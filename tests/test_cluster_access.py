"""Who can reach the Kubernetes API: the deployer (EKS's bootstrap entry), `cluster.adminPrincipals`
and `cluster.readerPrincipals` (access entries), run as the callers a user or CI would be."""

from __future__ import annotations

import pytest

from components.settings import SettingsError, load_stack_settings, parse_settings
from components.settings.loading import read_stack_file
from tools.offline.eks_api import EksApiError, check_access_entry, principal_key
from tools.offline.engine import run_stack

ACCOUNT = "123456789012"
ADMIN_ROLE = f"arn:aws:iam::{ACCOUNT}:role/platform-admin"  # an admin principal of both stack files
ENTRY = "aws:eks/accessEntry:AccessEntry"
READER = f"arn:aws:iam::{ACCOUNT}:role/support/oncall-reader"


def entries(run) -> dict[str, dict]:
    """Principal ARN -> the access entry the cluster gets for it (EKS's bootstrap entry excluded)."""
    return {r.inputs["principalArn"]: r.inputs for r in run.of_type(ENTRY)}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_deploying_as_an_admin_principal_session_creates_no_second_entry(stack):
    # `pulumi up` from a shell or CI that assumed the admin role: STS reports a session ARN
    run = run_stack(stack, caller_arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/platform-admin/ci-run-42")
    assert ADMIN_ROLE in load_stack_settings(stack).cluster.admin_principals
    assert ADMIN_ROLE not in entries(run)  # EKS already made one for the cluster creator


def test_a_role_with_a_path_is_recognised_through_its_session():
    deployer = f"arn:aws:iam::{ACCOUNT}:role/ci/deployer"
    run = run_stack(
        "dev",
        overrides={"genai-platform:cluster": {"adminPrincipals": [deployer, ADMIN_ROLE]}},
        caller_arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/gha-7",
        iam_roles=[deployer],
    )
    assert list(entries(run)) == [ADMIN_ROLE]


def test_an_update_by_another_admin_keeps_the_entries_when_the_creator_is_set():
    # CI created the cluster; an admin whose role has an entry of its own runs the next update
    ci = f"arn:aws:iam::{ACCOUNT}:role/ci"
    cluster = {"adminPrincipals": [ci, ADMIN_ROLE], "creatorPrincipal": ci}
    run = run_stack("dev", overrides={"genai-platform:cluster": cluster}, creator_arn=ci,
                    caller_arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/platform-admin/alice")
    assert list(entries(run)) == [ADMIN_ROLE]  # the admin's entry stays; none for the creator
    with pytest.raises(Exception, match=f"ResourceInUseException.*{ci}"):  # without the setting
        run_stack("dev", overrides={"genai-platform:cluster": {"adminPrincipals": [ci, ADMIN_ROLE]}}, creator_arn=ci,
                  caller_arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/platform-admin/alice")


def test_other_admins_get_cluster_admin_entries(stack_run):
    admins = load_stack_settings(stack_run.stack).cluster.admin_principals
    for admin in admins:
        (policy,) = [r for r in stack_run.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
                     if r.inputs["principalArn"] == admin]
        assert policy.inputs["policyArn"].endswith(":cluster-access-policy/AmazonEKSClusterAdminPolicy")


def test_a_session_of_a_role_written_with_a_path_in_settings_is_still_the_deployer():
    # getSessionContext found the role without its path (say iam:GetRole was not allowed)
    listed = f"arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_1a2b"
    run = run_stack("dev", overrides={"genai-platform:cluster": {"adminPrincipals": [listed, ADMIN_ROLE]}},
                    caller_arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_Admin_1a2b/alice")
    assert list(entries(run)) == [ADMIN_ROLE]


def test_engine_refuses_a_second_entry_for_one_principal_as_eks_does():
    existing = {principal_key(ADMIN_ROLE): "the cluster creator's entry"}
    with pytest.raises(EksApiError, match=f"ResourceInUseException.*{ADMIN_ROLE}"):
        check_access_entry("genai-dev", ADMIN_ROLE, [], existing)
    with_path = f"arn:aws:iam::{ACCOUNT}:role/teams/Platform-Admin"  # the same role, path and case aside
    with pytest.raises(EksApiError, match="ResourceInUseException"):
        check_access_entry("genai-dev", with_path, [], existing)
    check_access_entry("genai-dev", READER, [], existing)  # another principal is fine
    with pytest.raises(EksApiError, match="InvalidParameterException.*system:"):
        check_access_entry("genai-dev", READER, ["system:masters"], existing)
    with pytest.raises(EksApiError, match="InvalidParameterException.*STS session"):
        check_access_entry("genai-dev", f"arn:aws:sts::{ACCOUNT}:assumed-role/x/y", [], existing)


def test_engine_fails_a_run_whose_entries_collide_with_the_creator(monkeypatch):
    # A program that does not recognise the caller gives every adminPrincipal an entry, the deployer's too
    import components.cluster_access as access  # noqa: PLC0415

    monkeypatch.setattr(access, "deployer_arn", lambda: f"arn:aws:iam::{ACCOUNT}:user/not-the-caller")
    with pytest.raises(Exception, match=f"ResourceInUseException.*{ADMIN_ROLE}"):
        run_stack("dev", caller_arn=ADMIN_ROLE)


def test_reader_principals_get_the_reader_group_that_the_role_binding_names():
    run = run_stack("dev", overrides={"genai-platform:cluster": {"readerPrincipals": [READER]}})
    entry = entries(run)[READER]
    group = load_stack_settings("dev").access.reader_group
    assert entry["type"] == "STANDARD" and entry["kubernetesGroups"] == [group]
    assert not [r for r in run.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
                if r.inputs["principalArn"] == READER]  # RBAC only: the genai-reader Role
    (binding,) = [r for r in run.kubernetes_objects() if r.type.endswith("RoleBinding") and r.name == "genai-reader"]
    assert binding.inputs["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": group}]


def test_a_reader_who_deploys_is_not_given_a_second_entry():
    run = run_stack("dev", overrides={"genai-platform:cluster": {"readerPrincipals": [READER]}},
                    caller_arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/oncall-reader/s", iam_roles=[READER])
    assert READER not in entries(run)


@pytest.mark.parametrize("cluster, access, key, allowed", [
    ({"readerPrincipals": ["bob@example.com"]}, {}, "genai-platform:cluster.readerPrincipals[0] = 'bob@example.com'",
     "an IAM role or user ARN"),
    ({"readerPrincipals": ["arn:aws-cn:iam::123456789012:role/r"]}, {},
     "genai-platform:cluster.readerPrincipals[0] = 'arn:aws-cn:iam::123456789012:role/r'", "aws partition"),
    ({"adminPrincipals": [ADMIN_ROLE], "readerPrincipals": [ADMIN_ROLE]}, {},
     f"genai-platform:cluster.readerPrincipals[0] = '{ADMIN_ROLE}'", "adminPrincipals"),
    ({"adminPrincipals": [ADMIN_ROLE, ADMIN_ROLE]}, {}, f"genai-platform:cluster.adminPrincipals[1] = '{ADMIN_ROLE}'",
     "unique"),
    ({}, {"readerGroup": "system:readers"}, "genai-platform:access.readerGroup = 'system:readers'", "system:"),
    ({"creatorPrincipal": "arn:aws:sts::123456789012:assumed-role/ci/run"}, {},
     "genai-platform:cluster.creatorPrincipal = 'arn:aws:sts::123456789012:assumed-role/ci/run'", "created the cluster"),
    ({"creatorPrincipal": "arn:aws-us-gov:iam::123456789012:role/ci"}, {},
     "genai-platform:cluster.creatorPrincipal = 'arn:aws-us-gov:iam::123456789012:role/ci'", "aws partition"),
])
def test_bad_principals_and_groups_name_the_key(project_dir, cluster, access, key, allowed):
    config = read_stack_file(project_dir / "Pulumi.dev.yaml")[0]
    config["genai-platform:cluster"] = cluster
    if access:
        config["genai-platform:access"] = access
    with pytest.raises(SettingsError) as err:
        parse_settings(config, "Pulumi.dev.yaml")
    assert key in str(err.value) and allowed in str(err.value) and "Fix: pulumi config" in str(err.value)
