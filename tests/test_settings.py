"""Bad stack configuration fails before any resource exists, naming the key, value and fix."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import botocore
import pytest

from components import catalog
from components.settings import SettingsError, load_stack_settings, parse_settings
from tools.offline.engine import run_stack

BASE = {"aws:region": "us-east-1", "genai-platform:hfToken": "hf_x"}

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
    ("too-many-cores", {"genai-platform:models": [{"name": "big", "neuronCores": 4}]},
     "genai-platform:models[0].neuronCores = 4", "at most 2, the NeuronCores of one inf2.xlarge node"),
    ("eks-version", {"genai-platform:cluster": {"version": "1.29"}},
     "genai-platform:cluster.version = '1.29'", "supported EKS versions 1.34, 1.35"),
    ("bedrock-empty", {"genai-platform:bedrockModels": [{"name": "claude", "modelId": ""}]},
     "genai-platform:bedrockModels[0].modelId = ''", "a Bedrock model or inference profile id"),
    ("bedrock-malformed", {"genai-platform:bedrockModels": [{"name": "claude", "modelId": "claude haiku!"}]},
     "genai-platform:bedrockModels[0].modelId = 'claude haiku!'", "inference profile id"),
    ("bedrock-wrong-geo", {"genai-platform:bedrockModels": [{"name": "c", "modelId": "eu.anthropic.claude-haiku-4-5-20251001-v1:0"}]},
     "genai-platform:bedrockModels[0].modelId", "cannot be called from us-east-1"),
    ("admin-not-arn", {"genai-platform:cluster": {"adminPrincipals": ["alice@example.com"]}},
     "genai-platform:cluster.adminPrincipals[0] = 'alice@example.com'", "an IAM role or user ARN"),
    ("typo-key", {"genai-platform:nueron": {"minSize": 0}},
     "genai-platform:nueron", "unknown setting"),
    ("open-endpoint", {"genai-platform:cluster": {"publicAccessCidrs": ["0.0.0.0/0"]}},
     "genai-platform:cluster.publicAccessCidrs[0] = '0.0.0.0/0'", "opens the API endpoint"),
    ("fallback-unknown", {"genai-platform:models": [{"fallback": "gpt-5"}]},
     "genai-platform:models[0].fallback = 'gpt-5'", "the name of a Bedrock model"),
    ("latest-image", {"genai-platform:models": [{"image": "public.ecr.aws/neuron/vllm:latest"}]},
     "genai-platform:models[0].image", "a pinned image"),
    ("mixed-architectures", {"genai-platform:cluster": {"systemNodes": {"instanceTypes": ["m6i.xlarge", "m7g.xlarge"]}}},
     "genai-platform:cluster.systemNodes.instanceTypes[1] = 'm7g.xlarge'", "the same CPU architecture as m6i.xlarge"),
    ("region-unknown", {"aws:region": "us-esat-1"}, "aws:region = 'us-esat-1'", "a region of AWS, AWS GovCloud or AWS China"),
    ("region-malformed", {"aws:region": "us-east1"}, "aws:region = 'us-east1'", "an AWS region such as us-east-1"),
    ("missing-hf-token", {"genai-platform:hfToken": None},
     "genai-platform:hfToken = <not set>", "pulumi config set --secret hfToken"),
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
    assert not prod.cluster.endpoint_public_access
    assert dev.cluster.public_access_cidrs and "0.0.0.0/0" not in dev.cluster.public_access_cidrs


def test_bad_stack_file_process_exits_without_traceback(tmp_path, project_dir):
    bad = tmp_path / "Pulumi.bad.yaml"
    bad.write_text(
        "config:\n  aws:region: us-east-1\n  genai-platform:hfToken: hf_x\n"
        "  genai-platform:neuron:\n    instanceTypes: [m5.large]\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "tools.offline", "bad", "--stack-file", str(bad)],
        cwd=project_dir, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert "genai-platform:neuron.instanceTypes[0] = 'm5.large'" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


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
