"""Open WebUI's background tasks (titles, tags, follow-ups) go to a gateway model, never to the
chat's agent: `openWebui.taskModel`, rendered as TASK_MODEL_EXTERNAL (Open WebUI 0.12.4 uses it for
models of OpenAI-API connections, open_webui/utils/task.py get_task_model_id)."""

from __future__ import annotations

import pytest

from components.settings import SettingsError, load_stack_settings, parse_settings
from components.settings.loading import read_stack_file
from rendered import env, gateway_config
from tools.offline.engine import PROJECT_DIR


def served(run) -> list[str]:
    return [m["model_name"] for m in gateway_config(run)["model_list"]]


def test_the_task_model_is_a_gateway_model_and_not_an_agent(stack_run):
    webui = env(stack_run, "open-webui")
    settings = load_stack_settings(stack_run.stack)
    task = webui["TASK_MODEL_EXTERNAL"]
    assert task in served(stack_run)
    # the default: the first Bedrock model (always on, per token), not a self-hosted one that may be at zero
    assert task == (settings.open_webui.task_model or settings.bedrock_models[0].name)
    # persistent config is off, so this env value is what Open WebUI uses (not a value saved in its database)
    assert webui["ENABLE_PERSISTENT_CONFIG"] == "False"


def test_a_chosen_self_hosted_task_model_is_rendered(run_with):
    config = read_stack_file(PROJECT_DIR / "Pulumi.dev.yaml")[0]
    hosted = config["genai-platform:models"][0]["name"]
    run = run_with("dev", {"genai-platform:openWebui": {**config.get("genai-platform:openWebui", {}),
                                                        "taskModel": hosted}})
    assert env(run, "open-webui")["TASK_MODEL_EXTERNAL"] == hosted


@pytest.mark.parametrize("value", ["research-assistant", "gpt-4o"])
def test_a_task_model_the_gateway_does_not_serve_is_refused_by_key(value):
    config = read_stack_file(PROJECT_DIR / "Pulumi.dev.yaml")[0]
    webui = {**config.get("genai-platform:openWebui", {}), "taskModel": value}
    with pytest.raises(SettingsError) as err:
        parse_settings({**config, "genai-platform:openWebui": webui}, "Pulumi.dev.yaml")
    message = str(err.value)
    assert "genai-platform:openWebui" in message and "taskModel" in message and value in message
    assert "a model the gateway serves" in message and config["genai-platform:models"][0]["name"] in message
