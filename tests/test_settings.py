"""Bad stack configuration fails before any resource exists, naming the key, value and fix."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import botocore
import pytest

from components import catalog
from components.settings import SettingsError, load_stack_settings, parse_settings
from components.settings.loading import read_stack_file
from tools.offline.engine import run_stack

BASE = {"aws:region": "us-east-1", "genai-platform:hfToken": "hf_x"}
LLAMA = {"name": "llama-3.2-1b", "hfModelId": "meta-llama/Llama-3.2-1B-Instruct"}

BAD_CASES = [
    ("neuron-not-neuron-type", {"genai-platform:neuron": {"instanceTypes": ["m5.large"]}},
     "genai-platform:neuron.instanceTypes[0] = 'm5.large'", "not a Neuron"),
    ("neuron-unknown-size", {"genai-platform:neuron": {"instanceTypes": ["inf2.4xlarge"]}},
     "genai-platform:neuron.instanceTypes[0] = 'inf2.4xlarge'", "unknown Neuron size; allowed: inf2.xlarge"),
    ("min-above-max", {"genai-platform:neuron": {"minSize": 3, "maxSize": 2, "desiredSize": 2}},
     "genai-platform:neuron.minSize = 3", "must be <= maxSize (2)"),
    ("desired-outside", {"genai-platform:neuron": {"minSize": 0, "maxSize": 2, "desiredSize": 5}},
     "genai-platform:neuron.desiredSize = 5", "within [minSize, maxSize] = [0, 2]"),
    ("system-desired-outside", {"genai-platform:cluster": {"systemNodes": {"minSize": 2, "maxSize": 3, "desiredSize": 1}}},
     "genai-platform:cluster.systemNodes.desiredSize = 1", "within [minSize, maxSize]"),
    ("too-many-cores", {"genai-platform:models": [{**LLAMA, "name": "big", "neuronCores": 4}]},
     "genai-platform:models[0].neuronCores = 4", "at most 2, the NeuronCores of one inf2.xlarge node"),
    ("eks-version", {"genai-platform:cluster": {"version": "1.29"}},
     "genai-platform:cluster.version = '1.29'", "supported EKS versions 1.34, 1.35"),
    ("bedrock-empty", {"genai-platform:bedrockModels": [{"name": "claude", "modelId": ""}]},
     "genai-platform:bedrockModels[0].modelId = ''", "a Bedrock model or inference profile id"),
    ("bedrock-malformed", {"genai-platform:bedrockModels": [{"name": "claude", "modelId": "claude haiku!"}]},
     "genai-platform:bedrockModels[0].modelId = 'claude haiku!'", "inference profile id"),
    ("bedrock-bare-profile-only", {"genai-platform:bedrockModels": [{"name": "c", "modelId": "anthropic.claude-haiku-4-5-20251001-v1:0"}]},
     "genai-platform:bedrockModels[0].modelId", "Use us.anthropic.claude-haiku-4-5-20251001-v1:0"),
    ("admin-not-arn", {"genai-platform:cluster": {"adminPrincipals": ["alice@example.com"]}},
     "genai-platform:cluster.adminPrincipals[0] = 'alice@example.com'", "an IAM role or user ARN"),
    ("typo-key", {"genai-platform:nueron": {"minSize": 0}},
     "genai-platform:nueron", "unknown setting"),
    ("open-endpoint", {"genai-platform:cluster": {"publicAccessCidrs": ["0.0.0.0/0"]}},
     "genai-platform:cluster.publicAccessCidrs[0] = '0.0.0.0/0'", "opens the API endpoint"),
    ("admin-other-partition", {"genai-platform:cluster": {"adminPrincipals": ["arn:aws-cn:iam::123456789012:role/admin"]}},
     "genai-platform:cluster.adminPrincipals[0] = 'arn:aws-cn:iam::123456789012:role/admin'",
     "an ARN in the aws partition of us-east-1"),
    ("az-other-region", {"genai-platform:network": {"availabilityZones": ["us-east-1a", "us-west-2a"]}},
     "genai-platform:network.availabilityZones[1] = 'us-west-2a'", "a zone of us-east-1"),
    ("az-not-a-zone", {"genai-platform:network": {"availabilityZones": ["foo", "us-east-1b"]}},
     "genai-platform:network.availabilityZones[0] = 'foo'", "such as us-east-1a"),
    ("az-duplicate", {"genai-platform:network": {"availabilityZones": ["us-east-1a", "us-east-1a"]}},
     "genai-platform:network.availabilityZones[1] = 'us-east-1a'", "unique"),
    ("subnet-malformed", {"genai-platform:network": {
        "existingVpcId": "vpc-0123abcd", "existingPrivateSubnetIds": ["subnet-0123abcd", "subnet-xyz"]}},
     "genai-platform:network.existingPrivateSubnetIds[1] = 'subnet-xyz'", "8 or 17 hex digits"),
    ("subnet-duplicate", {"genai-platform:network": {
        "existingVpcId": "vpc-0123abcd", "existingPrivateSubnetIds": ["subnet-0123abcd", "subnet-0123abcd"]}},
     "genai-platform:network.existingPrivateSubnetIds[1] = 'subnet-0123abcd'", "unique"),
    ("endpoint-split-halves", {"genai-platform:cluster": {"publicAccessCidrs": ["0.0.0.0/1", "128.0.0.0/1"]}},
     "genai-platform:cluster.publicAccessCidrs[0] = '0.0.0.0/1'", "a large part of the internet"),
    ("endpoint-ipv6", {"genai-platform:cluster": {"publicAccessCidrs": ["2001:db8::/32"]}},
     "genai-platform:cluster.publicAccessCidrs[0] = '2001:db8::/32'", "EKS public access CIDRs are IPv4"),
    ("log-types-without-audit", {"genai-platform:cluster": {"logTypes": ["api"]}},
     "genai-platform:cluster.logTypes = ['api']", "must include audit"),
    ("log-types-empty", {"genai-platform:cluster": {"logTypes": []}},
     "genai-platform:cluster.logTypes = []", "must include audit"),
    ("addon-typo", {"genai-platform:cluster": {"addonVersions": {"vpc_cni": "v1.19.0-eksbuild.1"}}},
     "genai-platform:cluster.addonVersions.vpc_cni", "an add-on this program installs: vpc-cni, kube-proxy"),
    ("price-negative", {"genai-platform:pricing": {"inf2.xlarge": -1}},
     """genai-platform:pricing["inf2.xlarge"] = -1""", "an hourly price in USD from 0 to 1000"),
    ("price-absurd", {"genai-platform:pricing": {"inf2.xlarge": 7580}},
     """genai-platform:pricing["inf2.xlarge"] = 7580""", "an hourly price in USD from 0 to 1000"),
    ("system-type-made-up", {"genai-platform:cluster": {"systemNodes": {"instanceTypes": ["foo.bar"]}}},
     "genai-platform:cluster.systemNodes.instanceTypes[0] = 'foo.bar'", "such as m6i.xlarge"),
    ("fallback-unknown", {"genai-platform:models": [{**LLAMA, "fallback": "gpt-5"}]},
     "genai-platform:models[0].fallback = 'gpt-5'", "the name of a Bedrock model"),
    ("latest-image", {"genai-platform:models": [{**LLAMA, "image": "public.ecr.aws/neuron/vllm:latest"}]},
     "genai-platform:models[0].image", "a pinned image"),
    ("mixed-architectures", {"genai-platform:cluster": {"systemNodes": {"instanceTypes": ["m6i.xlarge", "m7g.xlarge"]}}},
     "genai-platform:cluster.systemNodes.instanceTypes[1] = 'm7g.xlarge'", "the same CPU architecture as m6i.xlarge"),
    ("region-unknown", {"aws:region": "us-esat-1"}, "aws:region = 'us-esat-1'", "a region of AWS, AWS GovCloud or AWS China"),
    ("region-malformed", {"aws:region": "us-east1"}, "aws:region = 'us-east1'", "an AWS region such as us-east-1"),
    ("missing-hf-token", {"genai-platform:hfToken": None},
     "genai-platform:hfToken = <not set>", "pulumi config set --secret hfToken"),
    ("model-without-name", {"genai-platform:models": [{"hfModelId": "Qwen/Qwen2.5-0.5B-Instruct"}]},
     "genai-platform:models[0].name = <not set>", "required"),
    ("model-without-hf-id", {"genai-platform:models": [{"name": "qwen"}]},
     "genai-platform:models[0].hfModelId = <not set>", "required"),
    ("cpu-not-a-quantity", {"genai-platform:gateway": {"resources": {"cpu": "2 cores"}}},
     "genai-platform:gateway.resources.cpu = '2 cores'", "a CPU quantity above 0"),
    ("memory-not-a-quantity", {"genai-platform:gateway": {"resources": {"memory": "lots"}}},
     "genai-platform:gateway.resources.memory = 'lots'", "a memory quantity above 0"),
    ("cpu-empty", {"genai-platform:gateway": {"resources": {"cpu": ""}}},
     "genai-platform:gateway.resources.cpu = ''", "a CPU quantity above 0"),
    ("cpu-limit-below-request", {"genai-platform:gateway": {"resources": {"cpu": "2", "cpuLimit": "1"}}},
     "genai-platform:gateway.resources.cpuLimit = '1'", "at least the CPU request (2)"),
    ("memory-limit-below-request", {"genai-platform:gateway": {"resources": {"memory": "2Gi", "memoryLimit": "1Gi"}}},
     "genai-platform:gateway.resources.memoryLimit = '1Gi'", "at least the memory request (2Gi)"),
    ("model-too-big-for-node", {"genai-platform:models": [{**LLAMA, "resources": {"cpu": "64", "memory": "512Gi"}}]},
     "genai-platform:models[0].resources", "fit one inf2.xlarge node (4 vCPUs, 16 GiB)"),
    ("tensor-parallel-3", {"genai-platform:neuron": {"instanceTypes": ["inf2.24xlarge"]},
                           "genai-platform:models": [{**LLAMA, "neuronCores": 3}]},
     "genai-platform:models[0].neuronCores = 3", "one of 1, 2, 4, 8, 16, 32"),
    ("cores-beyond-the-nodes", {"genai-platform:neuron": {"maxSize": 4, "desiredSize": 1, "minSize": 0},
                                "genai-platform:neuronAutoscaler": {"enabled": False},
                                "genai-platform:models": [{**LLAMA, "name": f"m{i}", "slug": f"m{i}", "maxReplicas": 2}
                                                          for i in range(2)]},
     "genai-platform:neuron.desiredSize = 1", "at least 4 while neuronAutoscaler.enabled is false"),
    ("no-models-at-all", {"genai-platform:models": [], "genai-platform:bedrockModels": []},
     "genai-platform:models = []", "the gateway would serve none"),
    ("idle-neuron-node-billed", {"genai-platform:models": [], "genai-platform:neuron": {"minSize": 0, "desiredSize": 1}},
     "genai-platform:neuron.desiredSize = 1", "0 (with minSize 0) when models is empty"),
    ("moving-image-tag", {"genai-platform:gateway": {"image": "ghcr.io/berriai/litellm:main-latest"}},
     "genai-platform:gateway.image = 'ghcr.io/berriai/litellm:main-latest'", "moving tags"),
    ("moving-image-tag-stable", {"genai-platform:gateway": {"image": "ghcr.io/berriai/litellm:main-stable"}},
     "genai-platform:gateway.image", "moving tags"),
    ("reader-group-empty", {"genai-platform:access": {"readerGroup": ""}},
     "genai-platform:access.readerGroup = ''", "a group name"),
    ("model-cache-beyond-ebs", {"genai-platform:models": [{**LLAMA, "cacheGib": 10**9}]},
     "genai-platform:models[0].cacheGib", "16384"),
    ("global-profile-outside-commercial", {"aws:region": "us-gov-west-1", "genai-platform:bedrockModels": [
        {"name": "sonnet", "modelId": "global.anthropic.claude-sonnet-4-5-20250929-v1:0"}]},
     "genai-platform:bedrockModels[0].modelId", "global inference profiles are not offered in us-gov-west-1"),
    ("bedrock-unknown-prefix", {"genai-platform:bedrockModels": [{"name": "c", "modelId": "mars.anthropic.claude-x-v1:0"}]},
     "genai-platform:bedrockModels[0].modelId", "allowed: us, eu, apac, jp, au, us-gov, global"),
    ("node-group-huge", {"genai-platform:neuron": {"maxSize": 10**12}},
     "genai-platform:neuron.maxSize", "less than or equal to 450"),
    ("autoscaling-huge", {"genai-platform:gateway": {"autoscaling": {"maxReplicas": 10**6}}},
     "genai-platform:gateway.autoscaling.maxReplicas", "100"),
]


@pytest.mark.parametrize("overrides,key,allowed", [c[1:] for c in BAD_CASES], ids=[c[0] for c in BAD_CASES])
def test_bad_value_names_key_value_and_allowed(overrides, key, allowed):
    raw = {k: v for k, v in {**BASE, **overrides}.items() if v is not None}
    with pytest.raises(SettingsError) as err:
        parse_settings(raw, "Pulumi.test.yaml")
    message = str(err.value)
    assert key in message
    assert allowed in message
    assert "Fix: pulumi config" in message


def test_program_fails_before_registering_anything(run_with):
    import pulumi

    with pytest.raises(pulumi.RunError, match=r"neuron\.instanceTypes\[0\] = 'm5.large'"):
        run_stack("dev", overrides={"genai-platform:neuron": {"instanceTypes": ["m5.large"]}})


def test_stack_files_are_valid():
    dev, prod = load_stack_settings("dev"), load_stack_settings("prod")
    assert (dev.network.az_count, dev.network.nat_gateways) == (2, "single")
    assert (prod.network.az_count, prod.network.nat_gateways) == (3, "perAz")
    for stack in (dev, prod):  # the public endpoint is open only to the deployer's CIDR (a placeholder here)
        assert stack.cluster.public_access_cidrs and "0.0.0.0/0" not in stack.cluster.public_access_cidrs


def test_bad_stack_file_process_exits_without_traceback(tmp_path, project_dir):
    bad = tmp_path / "Pulumi.bad.yaml"
    bad.write_text(
        "config:\n  aws:region: us-east-1\n  genai-platform:hfToken:\n    secure: v1:AAAA\n"
        "  genai-platform:neuron:\n    instanceTypes: [m5.large]\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "tools.offline", "bad", "--stack-file", str(bad)],
        cwd=project_dir, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert "genai-platform:neuron.instanceTypes[0] = 'm5.large'" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


@pytest.mark.parametrize("text,expected", [
    ("- a\n- b\n", "must be a YAML mapping with a `config:` block"),
    ("hello\n", "must be a YAML mapping with a `config:` block"),
    ("config:\n  aws:region: us-east-1\n  1: 2\n", "1: unknown namespace"),
    ("config:\n  aws:region: us-east-1\n  ? null\n  : 2\n", "None: unknown namespace"),
], ids=["list", "scalar", "integer-key", "null-key"])
def test_stack_file_of_the_wrong_shape_is_a_config_error(tmp_path, text, expected):
    path = tmp_path / "Pulumi.odd.yaml"
    path.write_text(text)
    with pytest.raises(SettingsError, match=re.escape(expected)):
        config, _ = read_stack_file(path)
        parse_settings(config, path.name)


def test_map_keys_with_dots_use_path_syntax_in_the_fix():
    with pytest.raises(SettingsError) as err:
        parse_settings({**BASE, "genai-platform:pricing": {"inf2.xlarge": "cheap"}})
    assert """genai-platform:pricing["inf2.xlarge"] = 'cheap'""" in str(err.value)
    assert """Fix: pulumi config set --path 'pricing["inf2.xlarge"]' <value>""" in str(err.value)


def test_known_regions_follow_the_pinned_botocore():
    """The region table is botocore's, for the partitions the program deploys to (commercial, GovCloud,
    China): a boto3 upgrade that knows a new region fails here until the table has it."""
    endpoints = json.loads((Path(botocore.__file__).parent / "data" / "endpoints.json").read_text())
    regions = {r for p in endpoints["partitions"] if p["partition"] in ("aws", "aws-us-gov", "aws-cn") for r in p["regions"]}
    assert catalog.AWS_REGIONS == regions
    assert {catalog.partition_for(r) for r in regions} == {"aws", "aws-us-gov", "aws-cn"}
