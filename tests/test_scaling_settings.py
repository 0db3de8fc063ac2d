"""The scaling settings: replica ranges, the cache kind, the Neuron group's maximum; each error names
the key, the value, what is allowed and the fix."""

from __future__ import annotations

import pytest

from components.settings import SettingsError, parse_settings
from components.settings.scaling_checks import nodes_for

BASE = {"aws:region": "us-east-1", "genai-platform:hfToken": "hf_x"}
LLAMA = {"name": "llama-3.2-1b", "hfModelId": "meta-llama/Llama-3.2-1B-Instruct", "slug": "llama3-2-1b"}


def error(overrides: dict) -> str:
    with pytest.raises(SettingsError) as err:
        parse_settings({**BASE, **overrides}, "Pulumi.test.yaml")
    return str(err.value)


def test_many_replicas_on_the_shared_cache_are_allowed():
    settings = parse_settings({**BASE, "genai-platform:models": [{**LLAMA, "minReplicas": 2, "maxReplicas": 4}],
                               "genai-platform:neuron": {"maxSize": 4}}, "Pulumi.test.yaml")
    (model,) = settings.models
    assert (model.min_replicas, model.max_replicas, model.autoscaled) == (2, 4, True)
    assert settings.model_cache.kind == "efs"


@pytest.mark.parametrize("overrides,key,allowed,fix", [
    ({"genai-platform:models": [{**LLAMA, "replicas": 2}]},
     "genai-platform:models[0].replicas = 2", "removed: set minReplicas and maxReplicas", None),
    ({"genai-platform:models": [{**LLAMA, "minReplicas": 3, "maxReplicas": 2}]},
     "genai-platform:models[0].minReplicas = 3", "at most maxReplicas (2)", None),
    ({"genai-platform:models": [{**LLAMA, "maxReplicas": 0}]},
     "genai-platform:models[0].maxReplicas = 0", "", None),
    ({"genai-platform:modelCache": {"kind": "ebs"}, "genai-platform:models": [{**LLAMA, "maxReplicas": 2}]},
     "genai-platform:models[0].maxReplicas = 2", "Set modelCache.kind to efs", None),
    # 3 replicas x 2 cores on inf2.xlarge (2 cores): 3 nodes, the group allows 2
    ({"genai-platform:models": [{**LLAMA, "maxReplicas": 3}]},
     "genai-platform:neuron.maxSize = 2", "at least 3: every model at maxReplicas needs 6 NeuronCores",
     "pulumi config set --path 'neuron.maxSize' 3"),
    ({"genai-platform:models": [{**LLAMA, "minReplicas": 0}], "genai-platform:bedrockModels": []},
     "genai-platform:models[0].minReplicas = 0", "nothing to fall back to", None),
    ({"genai-platform:neuronAutoscaler": {"enabled": False}, "genai-platform:models": [{**LLAMA, "maxReplicas": 2}],
      "genai-platform:neuron": {"minSize": 1, "maxSize": 2, "desiredSize": 1}},
     "genai-platform:neuron.desiredSize = 1", "at least 2 while neuronAutoscaler.enabled is false",
     "pulumi config set --path 'neuron.desiredSize' 2"),
    ({"genai-platform:neuronAutoscaler": {"scaleDownIdleMinutes": 0}},
     "genai-platform:neuronAutoscaler.scaleDownIdleMinutes = 0", "", None),
    ({"genai-platform:neuronAutoscaler": {"chartVersion": "9.x"}},
     "genai-platform:neuronAutoscaler.chartVersion = '9.x'", "an exact chart version", None),
    ({"genai-platform:modelAutoscaling": {"prometheusUrl": "prometheus:9090"}},
     "genai-platform:modelAutoscaling.prometheusUrl = 'prometheus:9090'", "an http(s) URL", None),
    ({"genai-platform:modelCache": {"kind": "s3"}}, "genai-platform:modelCache.kind = 's3'", "", None),
])
def test_errors_name_the_key_the_value_and_the_fix(overrides, key, allowed, fix):
    message = error(overrides)
    assert key in message and allowed in message
    assert "Traceback" not in message
    if fix:
        assert fix in message


def test_the_maximum_is_checked_on_whole_pods_per_node():
    """8-core replicas do not share a 12-core inf2.24xlarge: three need three nodes, not two."""
    assert nodes_for([8, 8, 8], 12) == 3
    assert nodes_for([2] * 6, 12) == 1
    assert nodes_for([8, 4, 4, 8], 12) == 2
    message = error({"genai-platform:neuron": {"instanceTypes": ["inf2.24xlarge"], "maxSize": 2},
                     "genai-platform:models": [{**LLAMA, "neuronCores": 8, "maxReplicas": 3}]})
    assert "genai-platform:neuron.maxSize = 2: at least 3" in message


def test_the_type_that_launches_sizes_the_maximum():
    """ON_DEMAND launches the first type: inf2.xlarge (2 cores) first, inf2.48xlarge second."""
    overrides = {"genai-platform:neuron": {"instanceTypes": ["inf2.xlarge", "inf2.48xlarge"], "maxSize": 2},
                 "genai-platform:models": [{**LLAMA, "maxReplicas": 4}]}
    assert "at least 4" in error(overrides) and "inf2.xlarge" in error(overrides)
    overrides["genai-platform:neuron"]["instanceTypes"].reverse()
    parse_settings({**BASE, **overrides}, "Pulumi.test.yaml")
