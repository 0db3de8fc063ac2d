"""Preflight checks 2 and 3: Neuron capacity (moto's bundled offering data) and the Neuron vCPU quota
(Service Quotas answered by Stubber)."""

from __future__ import annotations

import pytest

from preflight_cases import aws_env, moto_aws, stubs  # noqa: F401 - fixtures (the first two autouse)
from preflight_cases import (
    aws,
    make_target,
    quota_response,
)
from tools.preflight.neuron import check_neuron_capacity, check_neuron_quota


# --- 2. Neuron capacity (moto's bundled offering data) ---------------------------------------


def test_capacity_passes_when_offered_in_the_first_azs():
    [result] = check_neuron_capacity(make_target(az_count=3), aws("us-east-1"))
    assert result.passed, result.line()
    assert "us-east-1a" in result.detail


def test_capacity_fails_when_offered_in_one_chosen_az_and_names_the_good_ones():
    """moto: in us-west-2, trn1.2xlarge is offered in us-west-2b and us-west-2d only."""
    target = make_target(region="us-west-2", az_count=2, neuron_instance_types=["trn1.2xlarge"])
    [result] = check_neuron_capacity(target, aws("us-west-2"))
    assert not result.passed
    assert "trn1.2xlarge" in result.detail and "us-west-2a" in result.detail and "us-west-2b" in result.detail
    assert "us-west-2b, us-west-2d" in result.fix


def test_capacity_fails_when_the_region_has_a_single_offering_az():
    """moto: in us-east-2, trn1.2xlarge is offered only in us-east-2c."""
    target = make_target(region="us-east-2", neuron_instance_types=["inf2.xlarge", "trn1.2xlarge"])
    inf, trn = check_neuron_capacity(target, aws("us-east-2"))
    assert inf.passed
    assert not trn.passed and "trn1.2xlarge" in trn.detail
    assert "only in us-east-2c" in trn.fix


def test_capacity_fix_lowers_az_count_when_too_few_azs_offer_the_type():
    """moto: us-west-2 has four AZs, trn1.2xlarge is in us-west-2b and us-west-2d only."""
    target = make_target(region="us-west-2", az_count=3, neuron_instance_types=["trn1.2xlarge"])
    [result] = check_neuron_capacity(target, aws("us-west-2"))
    assert not result.passed
    assert "azCount to 2" in result.fix and "us-west-2b, us-west-2d" in result.fix


def test_capacity_uses_explicit_azs():
    target = make_target(region="us-west-2", availability_zones=["us-west-2b", "us-west-2d"],
                         az_count=2, neuron_instance_types=["trn1.2xlarge"])
    [result] = check_neuron_capacity(target, aws("us-west-2"))
    assert result.passed, result.line()


def test_capacity_fails_on_an_az_of_another_region():
    target = make_target(availability_zones=["us-east-1a", "eu-west-1a"], az_count=2)
    [result] = check_neuron_capacity(target, aws("us-east-1"))
    assert not result.passed and "eu-west-1a" in result.detail


# --- 3. quota (Stubber: moto has no EC2 quotas) ----------------------------------------------


@pytest.mark.parametrize("types,max_size,code,quota_name,needed", [
    (["inf2.xlarge"], 4, "L-1945791B", "Running On-Demand Inf instances", "16"),
    # trn1n shares the Trn quota with trn1 (the family is the type's letters, not `trn1n`)
    (["trn1n.32xlarge", "trn1.2xlarge"], 1, "L-2C3B7624", "Running On-Demand Trn instances", "128"),
], ids=["inf", "trn1n"])
def test_quota_passes_when_it_covers_max_size_times_vcpus(stubs, types, max_size, code, quota_name, needed):
    """Service Quotas stubbed with Stubber: moto only knows `vpc` quotas."""
    clients = aws("us-east-1")
    stubs(clients, "service-quotas").add_response(
        "get_service_quota", quota_response(code, quota_name, 128.0), {"ServiceCode": "ec2", "QuotaCode": code},
    )
    [result] = check_neuron_quota(make_target(neuron_instance_types=types, neuron_max_size=max_size), clients)
    assert result.passed and needed in result.detail and types[0].split(".")[0] in result.detail


def test_quota_zero_fails_with_the_needed_vcpus(stubs):
    """Service Quotas stubbed with Stubber; the largest type of the family sets the need."""
    clients = aws("us-east-1")
    stubs(clients, "service-quotas").add_response(
        "get_service_quota", quota_response("L-1945791B", "Running On-Demand Inf instances", 0.0),
        {"ServiceCode": "ec2", "QuotaCode": "L-1945791B"},
    )
    target = make_target(neuron_instance_types=["inf2.xlarge", "inf2.48xlarge"], neuron_max_size=2)
    [result] = check_neuron_quota(target, clients)
    assert not result.passed
    assert "384" in result.detail and "inf2.48xlarge" in result.detail
    assert "--quota-code L-1945791B --desired-value 384" in result.fix


def test_spot_uses_the_spot_quota_codes_per_family(stubs):
    """Service Quotas stubbed with Stubber; expected params pin the spot codes."""
    clients = aws("us-east-1")
    quotas = stubs(clients, "service-quotas")
    quotas.add_response("get_service_quota", quota_response("L-B5D1601B", "All Inf Spot Instance Requests", 192.0),
                        {"ServiceCode": "ec2", "QuotaCode": "L-B5D1601B"})
    quotas.add_response("get_service_quota", quota_response("L-6B0D517C", "All Trn Spot Instance Requests", 128.0),
                        {"ServiceCode": "ec2", "QuotaCode": "L-6B0D517C"})
    target = make_target(neuron_instance_types=["trn1.32xlarge", "inf2.24xlarge"], neuron_max_size=2,
                         neuron_capacity_type="SPOT")
    inf, trn = check_neuron_quota(target, clients)
    assert inf.passed and "All Inf Spot" in inf.detail
    assert not trn.passed and "256" in trn.detail and "L-6B0D517C" in trn.fix


def test_quota_falls_back_to_the_aws_default(stubs):
    """Service Quotas stubbed with Stubber: no applied value -> GetAWSDefaultServiceQuota."""
    clients = aws("us-east-1")
    quotas = stubs(clients, "service-quotas")
    quotas.add_client_error("get_service_quota", "NoSuchResourceException", "no applied quota", 404)
    quotas.add_response("get_aws_default_service_quota",
                        quota_response("L-2C3B7624", "Running On-Demand Trn instances", 8.0),
                        {"ServiceCode": "ec2", "QuotaCode": "L-2C3B7624"})
    target = make_target(neuron_instance_types=["trn1.2xlarge"], neuron_max_size=1)
    [result] = check_neuron_quota(target, clients)
    assert result.passed and "8 vCPUs" in result.detail


def test_quota_access_denied_is_a_fail(stubs):
    """Service Quotas error injected with Stubber."""
    clients = aws("us-east-1")
    stubs(clients, "service-quotas").add_client_error("get_service_quota", "AccessDeniedException", "denied", 400)
    [result] = check_neuron_quota(make_target(), clients)
    assert not result.passed and "servicequotas:GetServiceQuota" in result.fix


def test_quota_unknown_instance_type_fails():
    [result] = check_neuron_quota(make_target(neuron_instance_types=["inf2.96xlarge"]), aws("us-east-1"))
    assert not result.passed and "inf2.96xlarge" in result.detail

