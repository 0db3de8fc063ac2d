"""The Neuron capacity check sizes the group as the type that launches: the first of instanceTypes
for ON_DEMAND (prioritized allocation), the one with the fewest NeuronCores for SPOT."""

from __future__ import annotations

import pytest

from components.settings import SettingsError, parse_settings
from tools.preview.model import make_preview

BASE = {"aws:region": "us-east-1", "genai-platform:hfToken": "hf_x"}
TWO_MODELS = [
    {"name": f"m{i}", "slug": f"m{i}", "hfModelId": "meta-llama/Llama-3.2-1B-Instruct"} for i in range(2)
]  # 2 NeuronCores each: 4 in all


def settings_with(instance_types: list[str], capacity_type: str):
    return parse_settings({
        **BASE,
        "genai-platform:models": TWO_MODELS,
        "genai-platform:neuron": {"instanceTypes": instance_types, "capacityType": capacity_type,
                                  "minSize": 0, "maxSize": 1, "desiredSize": 1},
    }, "Pulumi.test.yaml")


@pytest.mark.parametrize("types,capacity,launched,why", [
    # One inf2.xlarge (2 cores) launches: a larger type later in the list does not help
    (["inf2.xlarge", "inf2.24xlarge"], "ON_DEMAND", "inf2.xlarge", "ON_DEMAND launches the first"),
    # SPOT may launch any listed type, the small one included
    (["inf2.24xlarge", "inf2.xlarge"], "SPOT", "inf2.xlarge", "SPOT may launch any listed type"),
])
def test_capacity_fails_for_the_type_that_launches(types, capacity, launched, why):
    with pytest.raises(SettingsError) as err:
        settings_with(types, capacity)
    message = str(err.value)
    # the autoscaler's maximum (maxReplicas x cores must fit maxSize nodes of the launched type)
    assert "genai-platform:neuron.maxSize = 1" in message
    assert f"on 2 x {launched}" in message and why in message


def test_on_demand_with_the_large_type_first_passes():
    settings = settings_with(["inf2.24xlarge", "inf2.xlarge"], "ON_DEMAND")
    assert settings.neuron.launched_instance[0].name == "inf2.24xlarge"


def test_preview_names_the_type_it_assumed(run_with, project_dir):
    run = run_with("dev", {"genai-platform:neuron": {
        "instanceTypes": ["inf2.24xlarge", "inf2.xlarge"], "capacityType": "ON_DEMAND",
        "minSize": 0, "maxSize": 2, "desiredSize": 1,
    }})
    preview = make_preview(run, region="us-east-1", pricing={}, policies=False)
    text, markdown = preview.summary.text(), preview.summary.markdown()
    line = next(x for x in text.splitlines() if "-neuron-ng:" in x)
    assert "1 x inf2.24xlarge (ON_DEMAND launches the first of instanceTypes) = 12 NeuronCores" in line
    assert "model servers request 2" in line  # dev serves one 2-core model
    assert "## Neuron capacity" in markdown and "1 x inf2.24xlarge" in markdown
