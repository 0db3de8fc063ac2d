"""Policy rule neuron-group-single-zone-for-zonal-volumes: a Neuron node group whose model servers mount
ReadWriteOnce (zonal EBS) claims stays in one AZ (see tests/policy_cases.py for the variant scheme)."""

from __future__ import annotations

import copy

import pytest
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from policy_cases import NODE_GROUP, assert_untouched, covers, find, only_new, reported, set_in, variant
from tools.offline.engine import run_stack

RULE = "neuron-group-single-zone-for-zonal-volumes"
SUBNET = "aws:ec2/subnet:Subnet"


# The rule is about zonal caches: these tests vary the dev stack run with ReadWriteOnce EBS caches
# (the committed stacks use the shared EFS cache, whose group spans every AZ; see the last test).
EBS = {"genai-platform:modelCache": {"kind": "ebs"},
       "genai-platform:models": [{"name": "llama-3.2-1b", "hfModelId": "meta-llama/Llama-3.2-1B-Instruct",
                                  "slug": "llama3-2-1b", "maxReplicas": 1}]}


@pytest.fixture(scope="module")
def dev():
    return run_stack("dev", overrides=EBS)


@pytest.fixture(scope="module")
def dev_reported(dev):
    return reported(dev.resources)


def private_subnets(dev) -> list:
    return [s for s in dev.of_type(SUBNET) if "private" in s.name]


def every_private_subnet(dev):
    """The group as it was before the fix: the subnets of every AZ."""
    return set_in(("subnetIds",), [s.outputs["id"] for s in private_subnets(dev)], key="both")


@covers(RULE)
def test_multi_zone_neuron_group_with_a_zonal_cache_is_reported(dev, dev_reported):
    assert len({s.inputs["availabilityZone"] for s in private_subnets(dev)}) >= 2
    records, urn = variant(dev, NODE_GROUP, "neuron", every_private_subnet(dev))
    assert only_new(dev_reported, records) == {(RULE, urn)}
    assert_untouched(dev_reported, RULE, urn)  # the program's own group: one AZ


def test_the_system_group_may_span_zones(dev, dev_reported):
    """Only Neuron groups carry model servers; the system group spans every AZ and is not reported."""
    system = find(dev.resources, NODE_GROUP, "system")
    assert len(system.inputs["subnetIds"]) >= 2
    assert_untouched(dev_reported, RULE, system.urn)


def test_without_a_persistent_claim_the_group_may_span_zones(dev, dev_reported):
    records, _ = variant(dev, NODE_GROUP, "neuron", every_private_subnet(dev))
    server = next(r for r in records if r.type == "kubernetes:apps/v1:Deployment" and r.name.startswith("vllm-"))
    scratch = copy.deepcopy(server)
    for values in (scratch.inputs, scratch.outputs):
        pod = values["spec"]["template"]["spec"]
        pod["volumes"] = [{"name": v["name"], "emptyDir": {}} if "persistentVolumeClaim" in v else v
                          for v in pod["volumes"]]
    records[records.index(server)] = scratch
    assert RULE not in {rule for rule, _ in only_new(dev_reported, records)}


def test_preview_resolves_the_subnets_through_dependencies(dev, dev_reported):
    """First preview: the subnet ids are unknown; the subnets the group depends on give the AZs."""
    records, urn = variant(dev, NODE_GROUP, "neuron", set_in(("subnetIds",), [UNKNOWN_STRING_VALUE], key="both"))
    group = find(records, NODE_GROUP, "neuron")
    own = set(group.dependencies)
    assert any(s.urn in own for s in private_subnets(dev))
    assert only_new(dev_reported, records) == set()  # its one subnet: one AZ
    group.dependencies = sorted(own | {s.urn for s in private_subnets(dev)})
    assert (RULE, urn) in only_new(dev_reported, records)


def test_the_shared_cache_lets_the_group_span_zones_with_many_replicas(stack_runs):
    """The committed dev stack: EFS (ReadWriteMany) cache, several replicas, a multi-AZ Neuron group."""
    shared = stack_runs["dev"]
    group = find(shared.resources, NODE_GROUP, "neuron")
    assert len(group.inputs["subnetIds"]) == len(private_subnets(shared)) >= 2
    assert (RULE, group.urn) not in reported(shared.resources)
