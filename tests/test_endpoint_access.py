"""Who can reach the EKS API endpoint, in settings, the program and the offline engine: the committed
stacks' placeholder for the deployer's CIDR, ranges no internet client has, and what EKS and
pulumi-eks refuse."""

from __future__ import annotations

import asyncio
import gc
import re

import pulumi
import pytest

from components import endpoint_access
from components.settings import SettingsError, load_stack_settings, parse_settings
from tools.offline.engine import run_stack
from tools.offline.monitor import refuse_endpoint_access

BASE = {"aws:region": "us-east-1", "genai-platform:hfToken": "hf_x"}
EKS = "aws:eks/cluster:Cluster"


def cidrs(*values: str) -> dict:
    return {**BASE, "genai-platform:cluster": {"publicAccessCidrs": list(values)}}


@pytest.mark.parametrize("cidr, what", [
    ("203.0.113.0/24", "TEST-NET-3 (RFC 5737)"),
    ("198.51.100.7/32", "TEST-NET-2 (RFC 5737)"),
    ("192.0.2.0/24", "TEST-NET-1 (RFC 5737)"),
    ("10.0.0.0/8", "a private range (RFC 1918)"),
    ("172.16.5.0/24", "a private range (RFC 1918)"),
    ("192.168.1.1/32", "a private range (RFC 1918)"),
    ("100.64.0.0/10", "carrier-grade NAT"),
])
def test_ranges_no_internet_client_has_are_refused_with_the_fix(cidr, what):
    with pytest.raises(SettingsError) as err:
        parse_settings(cidrs("52.95.110.0/24", cidr))
    message = str(err.value)
    assert f"genai-platform:cluster.publicAccessCidrs[1] = {cidr!r}" in message
    assert what in message and "checkip.amazonaws.com" in message
    assert ("cluster.privateAccessCidrs" in message) == ("RFC 1918" in what or "carrier-grade" in what)
    assert "Fix: pulumi config set --path 'cluster.publicAccessCidrs[1]' <value>" in message


def test_public_ranges_and_the_placeholder_are_accepted():
    settings = parse_settings(cidrs("52.95.110.7/32", "PLACEHOLDER-replace-with-your-egress-ip/32", "81.2.0.0/16"))
    assert settings.cluster.endpoint_public_access
    assert settings.cluster.placeholder_cidrs == ["PLACEHOLDER-replace-with-your-egress-ip/32"]
    assert not settings.cluster.deployer_in_vpc


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_committed_stacks_hold_a_placeholder_for_the_deployer(stack):
    """Both stacks are deployable once the placeholder is replaced: the public endpoint is on, open
    to the deployer only (no private-only endpoint on a VPC the stack has yet to create)."""
    cluster = load_stack_settings(stack).cluster
    assert cluster.endpoint_public_access
    assert cluster.public_access_cidrs == cluster.placeholder_cidrs and len(cluster.placeholder_cidrs) == 1
    assert endpoint_access.placeholder_messages(cluster.public_access_cidrs) == [
        f"genai-platform:cluster.publicAccessCidrs[0] = {cluster.public_access_cidrs[0]!r}: a placeholder; the public "
        "API endpoint must allow the IP address `pulumi up` runs from (find it: curl https://checkip.amazonaws.com). "
        "Fix: pulumi config set --path 'cluster.publicAccessCidrs[0]' <your egress IP>/32"
    ]


def test_a_real_deployment_stops_at_the_placeholder_before_any_resource(monkeypatch):
    """Offline the placeholder stands for the deployer's CIDR; under a real engine the program refuses it."""
    monkeypatch.setattr(endpoint_access, "_under_pulumi_mocks", lambda: False)
    with pytest.raises(pulumi.RunError, match=r"cluster\.publicAccessCidrs\[0\] = 'PLACEHOLDER-replace-with-your-egress"
                                              r".*Fix: pulumi config set --path 'cluster\.publicAccessCidrs\[0\]'"):
        run_stack("dev")
    run = run_stack("dev", overrides={"genai-platform:cluster": {
        **load_stack_settings("dev").cluster.model_dump(by_alias=True, exclude_defaults=True),
        "publicAccessCidrs": ["52.95.110.7/32"]}})
    assert run.one(EKS).inputs["vpcConfig"]["publicAccessCidrs"] == ["52.95.110.7/32"]


def test_offline_runs_keep_the_placeholder_visible(stack_runs):
    for stack, run in stack_runs.items():
        vpc = run.one(EKS).inputs["vpcConfig"]
        assert vpc["endpointPublicAccess"] is True and vpc["endpointPrivateAccess"] is True
        assert vpc["publicAccessCidrs"] == load_stack_settings(stack).cluster.public_access_cidrs


@pytest.mark.parametrize("args, refusal", [
    ({"publicAccessCidrs": ["52.95.110.7/32", "10.1.0.96/27"]},
     "The following CIDRs are not allowed in publicAccessCidrs: [10.1.0.96/27]"),
    ({"publicAccessCidrs": ["203.0.113.0/24"]}, "not allowed in publicAccessCidrs: [203.0.113.0/24]"),
    ({"publicAccessCidrs": ["my-office"]}, "The following CIDRs are invalid in publicAccessCidrs: [my-office]"),
    ({"publicAccessCidrs": ["2001:db8::/32"]}, "invalid in publicAccessCidrs"),
    ({"endpointPublicAccess": False, "publicAccessCidrs": ["52.95.110.7/32"]},
     "`publicAccessCidrs` can only be set when `endpointPublicAccess` is true"),
])
def test_engine_refuses_endpoint_arguments_as_eks_and_pulumi_eks_do(args, refusal):
    with pytest.raises(ValueError) as err:
        refuse_endpoint_access({"endpointPublicAccess": True, **args})
    assert refusal in str(err.value)


def test_engine_accepts_what_eks_accepts():
    for args in ({"publicAccessCidrs": ["52.95.110.7/32", "PLACEHOLDER-ci-runner"]},
                 {"endpointPublicAccess": False}, {}):
        refuse_endpoint_access(args)


def test_engine_refusal_reaches_a_program_that_skips_the_settings(tmp_path):
    """A program handing pulumi-eks a private range fails offline, as CreateCluster would."""
    (tmp_path / "Pulumi.t.yaml").write_text("config:\n  aws:region: us-east-1\n")
    (tmp_path / "__main__.py").write_text(
        "import pulumi_eks\n"
        "pulumi_eks.Cluster('c', vpc_id='vpc-1', private_subnet_ids=['subnet-1'], public_subnet_ids=['subnet-2'],\n"
        "                   endpoint_public_access=True, public_access_cidrs=['10.1.0.96/27'],\n"
        "                   skip_default_node_group=True)\n"
    )
    with pytest.raises(ValueError, match=r"not allowed in publicAccessCidrs: \[10\.1\.0\.96/27\]"):
        run_stack("t", project_dir=tmp_path)
    # The failed registration leaves the error in each of the component's output futures, which no
    # one awaits: retrieve it, or asyncio logs "exception was never retrieved" for each at exit
    for obj in gc.get_objects():
        if isinstance(obj, asyncio.Future) and obj.done() and not obj.cancelled():
            obj.exception()


def test_private_access_cidrs_open_the_cluster_security_group_on_443(run_with, stack_runs):
    system = load_stack_settings("prod").cluster.system_nodes.model_dump(by_alias=True)  # prod's workloads need them
    run = run_with("prod", {"genai-platform:cluster": {
        "deployerInVpc": True, "privateAccessCidrs": ["10.20.0.0/20", "172.31.8.0/22"], "systemNodes": system}})
    cluster = run.one(EKS)
    assert cluster.inputs["vpcConfig"]["endpointPublicAccess"] is False
    # Rules with CIDR sources (the shared model cache's EFS group admits the cluster group by id instead)
    rules = [r for r in run.of_type("aws:ec2/securityGroupRule:SecurityGroupRule") if "cidrBlocks" in r.inputs]
    assert sorted(r.inputs["cidrBlocks"][0] for r in rules) == ["10.20.0.0/20", "172.31.8.0/22"]
    for rule in rules:
        assert (rule.inputs["type"], rule.inputs["protocol"], rule.inputs["fromPort"], rule.inputs["toPort"]) == (
            "ingress", "tcp", 443, 443)
        # the group EKS created for the cluster (its private endpoint ENIs), not a group of ours
        assert rule.inputs["securityGroupId"] == cluster.outputs["vpcConfig"]["clusterSecurityGroupId"]
    for stack_run in stack_runs.values():
        assert not [r for r in stack_run.of_type("aws:ec2/securityGroupRule:SecurityGroupRule") if "cidrBlocks" in r.inputs]


@pytest.mark.parametrize("cidr", ["0.0.0.0/0", "runners", "10.20.0.1/20", "fd00::/8"])
def test_private_access_cidrs_must_be_ipv4_networks(cidr):
    key = r"genai-platform:cluster\.privateAccessCidrs\[0\]"
    with pytest.raises(SettingsError, match=rf"{key} = {re.escape(repr(cidr))}: an IPv4 CIDR"):
        parse_settings({**BASE, "genai-platform:cluster": {"privateAccessCidrs": [cidr]}})
