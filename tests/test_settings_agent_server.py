"""`agentServer` settings: the platform's own server, image override, scaling; the Pipelines keys
it had before are refused with what replaces them."""

from __future__ import annotations

import pytest

from components.settings import SettingsError, parse_settings
from components.settings.loading import read_stack_file
from tools.offline.engine import PROJECT_DIR


def settings_with(agent: dict):
    config = read_stack_file(PROJECT_DIR / "Pulumi.dev.yaml")[0]
    return parse_settings({**config, "genai-platform:agentServer": agent}, "Pulumi.dev.yaml")


def problem(agent: dict) -> str:
    with pytest.raises(SettingsError) as err:
        settings_with(agent)
    (line,) = [ln for ln in str(err.value).splitlines() if "genai-platform:agentServer" in ln]
    return line


def test_defaults_build_the_image_and_run_two_replicas():
    agent = settings_with({}).agent_server
    assert agent.builds_image and agent.image is None
    assert agent.replicas == 2 and agent.autoscaling.min_replicas == 2 and agent.starting_replicas == 2


@pytest.mark.parametrize("key,value,replacement", [
    ("containerPort", 9099, "listens on 5000"),
    ("healthPath", "/", "/health (liveness) and /ready"),
    ("apiKeyEnv", "PIPELINES_API_KEY", "AGENT_SERVER_API_KEY"),
    ("args", ["--x"], "agentServer.image"),
    ("env", {"PIPELINES_URLS": "https://example.com/p.py"}, "agentServer.model and agentServer.historyRuns"),
    ("health_path", "/", "/health (liveness)"),
])
def test_pipelines_keys_name_their_replacement(key, value, replacement):
    line = problem({key: value})
    assert f"genai-platform:agentServer.{key} = " in line
    assert "no longer a setting" in line and replacement in line
    assert line.endswith(f"Fix: pulumi config rm --path 'agentServer.{key}'")
    assert "Traceback" not in line
    if key == "env":
        assert "example.com" not in line  # env may have held credentials: not echoed


@pytest.mark.parametrize("agent,key,allowed", [
    ({"image": "agent-server:latest"}, "image", "a pinned image"),
    ({"image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/agent-server:latest"}, "image", "a pinned image"),
    ({"replicas": 0}, "replicas", "greater than or equal to 1"),
    ({"autoscaling": {"minReplicas": 5, "maxReplicas": 3}}, "autoscaling.minReplicas", "maxReplicas"),
    ({"resources": {"cpu": "500m", "cpuLimit": "100m"}}, "resources.cpuLimit", "at least the CPU request"),
    ({"historyRuns": 0}, "historyRuns", "greater than or equal to 1"),
])
def test_bad_values_name_the_key(agent, key, allowed):
    line = problem(agent)
    assert f"genai-platform:agentServer.{key} = " in line and allowed in line


def test_a_pinned_override_replaces_the_build():
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/agents/agent-server:1.4.0"
    agent = settings_with({"image": image, "autoscaling": None, "replicas": 3}).agent_server
    assert not agent.builds_image and agent.image == image and agent.starting_replicas == 3
