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


# --- 2. Neuron capacity in the Neuron group's one AZ (moto's bundled offering data) ----------
# moto: us-east-1 offers inf2.xlarge in a, b, c, f and trn1.2xlarge in c, f; us-west-2 offers
# trn1.2xlarge in b and d only; us-east-2 offers trn1.2xlarge in c only.


def test_capacity_passes_in_the_default_zone_the_networks_first():
    [result] = check_neuron_capacity(make_target(az_count=3), aws("us-east-1"))
    assert result.passed, result.line()
    assert "offered in us-east-1a, the Neuron group's AZ" in result.detail


def test_capacity_fails_when_the_groups_zone_lacks_the_type_and_names_a_stack_zone_that_has_it():
    target = make_target(region="us-west-2", az_count=2, neuron_instance_types=["trn1.2xlarge"])
    [result] = check_neuron_capacity(target, aws("us-west-2"))
    assert not result.passed
    assert "not offered in us-west-2a" in result.detail and "us-west-2b, us-west-2d" in result.detail
    assert "neuron.availabilityZone' us-west-2b" in result.fix


def test_capacity_passes_in_the_chosen_zone():
    target = make_target(region="us-west-2", az_count=2, neuron_instance_types=["trn1.2xlarge"],
                         neuron_availability_zone="us-west-2b")
    [result] = check_neuron_capacity(target, aws("us-west-2"))
    assert result.passed, result.line()


def test_every_type_must_be_offered_in_the_one_zone():
    """inf2.xlarge is in us-east-1a, trn1.2xlarge is not: the group there could not launch it."""
    target = make_target(neuron_instance_types=["inf2.xlarge", "trn1.2xlarge"], az_count=3)
    inf, trn = check_neuron_capacity(target, aws("us-east-1"))
    assert inf.passed and not trn.passed
    assert "neuron.availabilityZone' us-east-1c" in trn.fix  # c offers both and is a stack AZ


def test_capacity_fix_adds_a_zone_when_no_stack_zone_offers_the_type():
    target = make_target(region="us-east-2", az_count=2, neuron_instance_types=["trn1.2xlarge"])
    [result] = check_neuron_capacity(target, aws("us-east-2"))
    assert not result.passed and "us-east-2c in network.availabilityZones" in result.fix


def test_capacity_zone_must_be_a_stack_zone():
    target = make_target(availability_zones=["us-east-1a", "us-east-1b"], az_count=2,
                         neuron_availability_zone="us-east-1c")
    [result] = check_neuron_capacity(target, aws("us-east-1"))
    assert not result.passed and "not one of the stack's AZs (us-east-1a, us-east-1b)" in result.detail


def test_capacity_reads_the_zones_of_existing_subnets():
    """moto EC2: two private subnets in us-west-2b and us-west-2c; the group goes to the first (b)."""
    ec2 = aws("us-west-2")("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    ids = tuple(ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.1.{i}.0/24", AvailabilityZone=zone)["Subnet"]["SubnetId"]
                for i, zone in enumerate(("us-west-2c", "us-west-2b")))
    target = make_target(region="us-west-2", neuron_instance_types=["trn1.2xlarge"], existing_private_subnet_ids=ids)
    [result] = check_neuron_capacity(target, aws("us-west-2"))
    assert result.passed and "us-west-2b" in result.detail, result.line()
    [moved] = check_neuron_capacity(
        make_target(region="us-west-2", neuron_instance_types=["trn1.2xlarge"], existing_private_subnet_ids=ids,
                    neuron_availability_zone="us-west-2c"), aws("us-west-2"))
    assert not moved.passed and "neuron.availabilityZone' us-west-2b" in moved.fix


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



def test_target_carries_the_neuron_zone_and_existing_subnets_from_settings():
    from components.settings import parse_settings
    from tools.preflight.context import target_from_settings

    settings = parse_settings({
        "aws:region": "us-east-1", "genai-platform:hfToken": "hf_x",
        "genai-platform:network": {"existingVpcId": "vpc-0123abcd",
                                   "existingPrivateSubnetIds": ["subnet-0123abcd", "subnet-4567abcd"]},
        "genai-platform:neuron": {"availabilityZone": "us-east-1b"},
    }, "Pulumi.test.yaml")
    target = target_from_settings(settings)
    assert target.neuron_availability_zone == "us-east-1b"
    assert target.existing_private_subnet_ids == ("subnet-0123abcd", "subnet-4567abcd")
