"""Preflight: can `pulumi up` reach the Kubernetes API from here? The egress IP is a stub (never the
network), EKS DescribeCluster a botocore Stubber."""

from __future__ import annotations

import dataclasses
import io
import urllib.error
from datetime import UTC, datetime

import pytest

from components.settings import load_stack_settings
from preflight_cases import aws_env, moto_aws, stubs  # noqa: F401 - fixtures (the first two autouse)
from preflight_cases import DEPLOYER_CIDR, EGRESS_IP, aws, make_target
from tools.preflight import target_from_settings
from tools.preflight.context import Clients, fetch_egress_ip
from tools.preflight.endpoint import check_api_endpoint

OUTSIDE_IP = "3.5.140.2"
VPC = "vpc-0123456789abcdef0"
RUNNERS = "10.20.0.0/20"


def check(target, egress_ip=EGRESS_IP, clients=None):
    [result] = check_api_endpoint(target, clients or aws("us-east-1", egress_ip=egress_ip))
    return result


def test_egress_ip_inside_the_cidrs_passes():
    result = check(make_target(public_access_cidrs=("54.240.0.0/16", DEPLOYER_CIDR)))
    assert result.passed, result.line()
    assert EGRESS_IP in result.detail and "publicAccessCidrs[1]" in result.detail


def test_egress_ip_outside_the_cidrs_fails_with_the_command_that_adds_it():
    result = check(make_target(public_access_cidrs=(DEPLOYER_CIDR,)), egress_ip=OUTSIDE_IP)
    assert not result.passed
    assert OUTSIDE_IP in result.detail and "time out" in result.detail
    assert f"pulumi config set --path 'cluster.publicAccessCidrs[1]' {OUTSIDE_IP}/32" in result.fix


def test_private_only_endpoint_from_outside_fails():
    result = check(make_target(public_access_cidrs=()), egress_ip=OUTSIDE_IP)
    assert not result.passed
    assert "private only" in result.detail and "deployerInVpc" in result.detail
    assert f"'cluster.publicAccessCidrs[0]' {OUTSIDE_IP}/32" in result.fix
    assert "cluster.deployerInVpc true" in result.fix


def test_private_only_endpoint_inside_an_existing_vpc_passes_when_declared():
    result = check(make_target(public_access_cidrs=(), deployer_in_vpc=True, existing_vpc_id=VPC,
                               private_access_cidrs=(RUNNERS,)))
    assert result.passed, result.line()
    assert VPC in result.detail and f"443 open from cluster.privateAccessCidrs {RUNNERS}" in result.detail


def test_public_endpoint_from_inside_the_vpc_passes_when_declared():
    """Inside the VPC the endpoint name resolves to the private endpoint: the public CIDRs do not apply."""
    result = check(make_target(deployer_in_vpc=True, existing_vpc_id=VPC, private_access_cidrs=(RUNNERS,)),
                   egress_ip=OUTSIDE_IP)
    assert result.passed, result.line()
    assert f"inside {VPC}" in result.detail and OUTSIDE_IP in result.detail


def test_inside_the_vpc_without_private_access_cidrs_fails():
    """The cluster security group admits its own members only: a runner or VPN client needs a rule."""
    result = check(make_target(public_access_cidrs=(), deployer_in_vpc=True, existing_vpc_id=VPC))
    assert not result.passed and "privateAccessCidrs is empty" in result.detail
    assert "pulumi config set --path 'cluster.privateAccessCidrs[0]'" in result.fix


def test_declared_inside_a_vpc_the_first_up_has_yet_to_create_fails(stubs):
    clients = aws("us-east-1", egress_ip=OUTSIDE_IP)
    stubs(clients, "eks").add_client_error("describe_cluster", "ResourceNotFoundException", "No cluster found", 404,
                                           expected_params={"name": "genai-dev"})
    result = check(make_target(public_access_cidrs=(), deployer_in_vpc=True, private_access_cidrs=(RUNNERS,)),
                   clients=clients)
    assert not result.passed
    assert "does not exist yet" in result.detail
    assert f"'cluster.publicAccessCidrs[0]' {OUTSIDE_IP}/32" in result.fix


def test_declared_inside_the_vpc_of_a_stack_that_is_up_passes(stubs):
    """Later updates of a stack whose public endpoint was closed after the first `pulumi up`."""
    clients = aws("us-east-1", egress_ip=OUTSIDE_IP)
    stubs(clients, "eks").add_response(
        "describe_cluster", {"cluster": {"name": "genai-dev", "status": "ACTIVE", "createdAt": datetime.now(UTC)}},
        expected_params={"name": "genai-dev"})
    result = check(make_target(public_access_cidrs=(), deployer_in_vpc=True, private_access_cidrs=(RUNNERS,)),
                   clients=clients)
    assert result.passed, result.line()
    assert "inside the VPC of cluster genai-dev" in result.detail


@pytest.mark.parametrize("egress_ip", [EGRESS_IP, OUTSIDE_IP])
def test_placeholder_fails_with_the_callers_own_cidr(egress_ip):
    target = make_target(public_access_cidrs=("PLACEHOLDER-replace-with-your-egress-ip/32",))
    result = check(target, egress_ip=egress_ip)
    assert not result.passed
    assert "placeholder" in result.detail
    assert result.fix == f"pulumi config set --path 'cluster.publicAccessCidrs[0]' {egress_ip}/32"


@pytest.mark.parametrize("cidr, what", [("203.0.113.0/24", "TEST-NET-3 (RFC 5737)"), ("10.1.0.96/27", "RFC 1918")])
def test_ranges_no_internet_client_has_fail(cidr, what):
    """Settings refuse these already; a target built otherwise gets the same verdict."""
    result = check(make_target(public_access_cidrs=(cidr,)))
    assert not result.passed and what in result.detail
    assert f"'cluster.publicAccessCidrs[0]' {EGRESS_IP}/32" in result.fix


def test_unknown_egress_ip_fails_with_a_way_forward():
    def offline():
        raise urllib.error.URLError("no route to host")

    result = check(make_target(), clients=Clients("us-east-1", egress_ip=offline))
    assert not result.passed and "checkip.amazonaws.com" in result.detail
    assert "--egress-ip" in result.fix
    # a placeholder is reported as such even then
    placeholder = check(make_target(public_access_cidrs=("PLACEHOLDER-x",)),
                        clients=Clients("us-east-1", egress_ip=offline))
    assert "placeholder" in placeholder.detail and "<your egress IP>/32" in placeholder.fix


def test_ipv6_egress_cannot_reach_an_ipv4_endpoint():
    result = check(make_target(), egress_ip="2600:1f18::1")
    assert not result.passed and "IPv6" in result.detail


def test_default_egress_lookup_reads_the_bare_address(monkeypatch, no_network):
    asked = []

    def urlopen(url, timeout):
        asked.append(url)
        return io.BytesIO(b"52.95.110.7\n")

    monkeypatch.setattr("urllib.request.urlopen", urlopen)
    assert fetch_egress_ip() == "52.95.110.7"
    assert asked == ["https://checkip.amazonaws.com"]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_committed_stacks_do_not_pass_until_the_placeholder_is_replaced(stack):
    target = target_from_settings(load_stack_settings(stack))
    result = check(target)
    assert not result.passed and "placeholder" in result.detail
    assert result.fix == f"pulumi config set --path 'cluster.publicAccessCidrs[0]' {EGRESS_IP}/32"
    assert check(dataclasses.replace(target, public_access_cidrs=(f"{EGRESS_IP}/32",))).passed
