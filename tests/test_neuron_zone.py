"""The Neuron group's AZs. With zonal EBS model caches (modelCache.kind ebs, ReadWriteOnce) it lives in
one AZ: a multi-AZ group scaling 0 -> 1 could start its node where the volume cannot attach ("volume
node affinity conflict", the pod Pending for good). With the shared EFS cache (the default) it spans
every private subnet's AZ, unless neuron.availabilityZone pins one."""

from __future__ import annotations

import pulumi
import pytest

from components.settings import SettingsError, parse_settings

NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
SUBNET = "aws:ec2/subnet:Subnet"
BASE = {"aws:region": "us-east-1", "genai-platform:hfToken": "hf_x"}
# Zonal caches: one replica per model (its own ReadWriteOnce volume)
EBS = {"genai-platform:modelCache": {"kind": "ebs"},
       "genai-platform:models": [{"name": "llama-3.2-1b", "hfModelId": "meta-llama/Llama-3.2-1B-Instruct",
                                  "slug": "llama3-2-1b", "maxReplicas": 1}]}


def neuron_zones(run) -> set[str]:
    """The AZs of the Neuron group's subnets (the stack's own subnets)."""
    zone_of = {s.outputs["id"]: s.inputs["availabilityZone"] for s in run.of_type(SUBNET)}
    return {zone_of[i] for i in run.one(NODE_GROUP, "neuron").inputs["subnetIds"]}


def test_with_the_shared_cache_each_stack_spreads_the_neuron_group_over_every_zone(stack_run):
    private_zones = sorted(s.inputs["availabilityZone"] for s in stack_run.of_type(SUBNET) if "private" in s.name)
    assert len(private_zones) >= 2
    assert neuron_zones(stack_run) == set(private_zones)


def test_zonal_caches_put_the_neuron_group_in_the_first_zone(run_with):
    run = run_with("dev", EBS)
    private_zones = sorted(s.inputs["availabilityZone"] for s in run.of_type(SUBNET) if "private" in s.name)
    assert neuron_zones(run) == {private_zones[0]}
    # the system group still spans every AZ
    assert len(run.one(NODE_GROUP, "system").inputs["subnetIds"]) == len(private_zones)


def test_the_zone_is_chosen_in_settings(run_with):
    run = run_with("dev", {"genai-platform:neuron": {"availabilityZone": "us-east-1b"}})
    assert neuron_zones(run) == {"us-east-1b"}


def test_a_zone_outside_the_network_is_a_config_error(run_with):
    # dev: azCount 2 in us-east-1 -> us-east-1a, us-east-1b
    with pytest.raises(pulumi.RunError) as err:
        run_with("dev", {"genai-platform:neuron": {"availabilityZone": "us-east-1c"}})
    message = str(err.value)
    assert "genai-platform:neuron.availabilityZone = 'us-east-1c'" in message
    assert "us-east-1a, us-east-1b" in message and "pulumi config set --path 'neuron.availabilityZone'" in message


@pytest.mark.parametrize("network,zone,allowed", [
    ({"availabilityZones": ["us-east-1a", "us-east-1b"]}, "us-east-1d", "one of the network's zones"),
    ({}, "eu-west-1a", "a zone of us-east-1"),
])
def test_settings_reject_a_zone_the_network_cannot_have(network, zone, allowed):
    with pytest.raises(SettingsError) as err:
        parse_settings({**BASE, "genai-platform:network": network,
                        "genai-platform:neuron": {"availabilityZone": zone}}, "Pulumi.test.yaml")
    assert f"genai-platform:neuron.availabilityZone = '{zone}'" in str(err.value) and allowed in str(err.value)


# Existing VPC: the mocked ec2.get_subnet puts a subnet in the region's zone picked by its id's last
# hex digit (0 -> us-east-1a, 1 -> us-east-1b, ...), as tools/offline/mocks.py documents.
EXISTING = {"existingVpcId": "vpc-0123456789abcdef0", "existingPublicSubnetIds": ["subnet-0c0c0c0c", "subnet-0d0d0d01"]}


def test_existing_subnets_are_grouped_by_their_zone(run_with):
    run = run_with("dev", {
        "genai-platform:network": {**EXISTING, "existingPrivateSubnetIds": ["subnet-0aaaaaa1", "subnet-0bbbbbb0",
                                                                            "subnet-0cccccc0"]},
        "genai-platform:neuron": {"availabilityZone": "us-east-1a"},
    })
    assert run.one(NODE_GROUP, "neuron").inputs["subnetIds"] == ["subnet-0bbbbbb0", "subnet-0cccccc0"]
    default = run_with("dev", {**EBS, "genai-platform:network": {**EXISTING, "existingPrivateSubnetIds": [
        "subnet-0aaaaaa1", "subnet-0bbbbbb2"]}})
    assert default.one(NODE_GROUP, "neuron").inputs["subnetIds"] == ["subnet-0aaaaaa1"]  # us-east-1b, the first


def test_existing_subnets_without_the_zone_is_a_config_error(run_with):
    with pytest.raises(pulumi.RunError, match=r"neuron.availabilityZone = 'us-east-1c': the network has private "
                                              r"subnets only in us-east-1a, us-east-1b"):
        run_with("dev", {
            "genai-platform:network": {**EXISTING, "existingPrivateSubnetIds": ["subnet-0aaaaaa0", "subnet-0bbbbbb1"]},
            "genai-platform:neuron": {"availabilityZone": "us-east-1c"},
        })


def test_existing_private_subnets_in_one_zone_are_refused(run_with):
    with pytest.raises(pulumi.RunError, match=r"network.existingPrivateSubnetIds = .*at least two availability zones"):
        run_with("dev", {"genai-platform:network": {**EXISTING, "existingPrivateSubnetIds": [
            "subnet-0aaaaaa0", "subnet-0bbbbbb6"]}})  # 0 and 6: both us-east-1a of six zones
