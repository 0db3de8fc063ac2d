"""AWS base settings: partitions (GovCloud, China), zones, subnets, endpoint CIDRs, add-ons, prices, types."""

from __future__ import annotations

import json
import re

import pytest

from components import catalog
from components.settings import SettingsError, parse_settings
from tools.offline.engine import run_stack

BASE = {"aws:region": "us-east-1", "genai-platform:hfToken": "hf_x"}
# An ARN owned by AWS itself (account field `aws`): managed IAM policies, EKS access policies
AWS_OWNED_ARN = re.compile(r"arn:([\w-]+):[\w-]*:[\w-]*:aws:[\w/+=,.@-]+")


@pytest.mark.parametrize("region,partition", [("us-gov-west-1", "aws-us-gov"), ("cn-north-1", "aws-cn")])
def test_aws_owned_arns_use_the_region_partition(region, partition):
    run = run_stack("dev", overrides={
        "aws:region": region,
        "genai-platform:cluster": {"adminPrincipals": [f"arn:{partition}:iam::123456789012:role/platform-admin"]},
        # The load balancer controller publishes no GovCloud policy (components/front_door/files)
        **({"genai-platform:frontDoor": {"enabled": False}} if partition == "aws-us-gov" else {}),
        "genai-platform:bedrockModels": [],  # China has no default Claude profiles
        # without Bedrock a model cannot scale to zero (nothing to fall back to while it is cold)
        "genai-platform:models": [{"name": "llama-3.2-1b", "hfModelId": "meta-llama/Llama-3.2-1B-Instruct",
                                   "minReplicas": 1, "maxReplicas": 2}],
    })
    attached = [r.inputs["policyArn"] for r in run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")]
    entries = run.one("eks:index:Cluster").inputs["accessEntries"].values()
    access = [p["policyArn"] for e in entries for p in e["accessPolicies"].values()]
    assert attached and access
    for arn in attached + access:
        assert arn.startswith(f"arn:{partition}:"), arn
    owned = AWS_OWNED_ARN.findall(json.dumps([r.inputs for r in run.resources]))
    assert owned and set(owned) == {partition}


def test_program_installs_exactly_the_addons_that_may_be_pinned(stack_run):
    installed = {a.inputs["addonName"] for a in stack_run.of_type("aws:eks/addon:Addon")}
    assert installed == set(catalog.EKS_ADDONS)  # the metrics stack's container-logs add-on included


def test_valid_infra_values_are_accepted():
    settings = parse_settings({
        **BASE,
        "aws:region": "us-gov-west-1",
        "genai-platform:network": {
            "availabilityZones": ["us-gov-west-1a", "us-gov-west-1b"],
            "existingVpcId": "vpc-0123abcd",
            "existingPrivateSubnetIds": ["subnet-0123abcd", "subnet-0123456789abcdef0"],
            "existingPublicSubnetIds": ["subnet-89abcdef"],
        },
        "genai-platform:cluster": {
            "publicAccessCidrs": ["52.0.0.0/8", "81.2.69.7/32"],
            "adminPrincipals": ["arn:aws-us-gov:iam::123456789012:role/admin"],
            "logTypes": ["audit"],
            "addonVersions": {"vpc-cni": "v1.19.0-eksbuild.1", "aws-ebs-csi-driver": "v1.40.0-eksbuild.1"},
            "systemNodes": {"instanceTypes": ["m7i-flex.large", "m7i.metal-24xl", "c6in.2xlarge", "t3.nano"]},
        },
        "genai-platform:pricing": {"inf2.xlarge": 0.7582, "m6i.xlarge": 0},
    })
    assert settings.network.availability_zones == ["us-gov-west-1a", "us-gov-west-1b"]
    assert settings.pricing["m6i.xlarge"] == 0


@pytest.mark.parametrize("name", ["foo.bar", "m6i", "m6i.huge", "M6I.xlarge", "6i.xlarge", "m6i.xlarge "])
def test_system_instance_type_format(name):
    with pytest.raises(SettingsError, match=r"systemNodes\.instanceTypes\[0\].*such as m6i\.xlarge"):
        parse_settings({**BASE, "genai-platform:cluster": {"systemNodes": {"instanceTypes": [name]}}})


def test_subnet_in_both_lists_is_rejected():
    with pytest.raises(SettingsError, match=r"existingPublicSubnetIds\[0\] = 'subnet-0123abcd': .*also in existingPrivateSubnetIds"):
        parse_settings({**BASE, "genai-platform:network": {
            "existingVpcId": "vpc-0123abcd",
            "existingPrivateSubnetIds": ["subnet-0123abcd", "subnet-4567abcd"],
            "existingPublicSubnetIds": ["subnet-0123abcd"],
        }})

