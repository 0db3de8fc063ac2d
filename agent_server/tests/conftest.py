"""Loopback fixtures: a real PostgreSQL, the real LiteLLM proxy in front of a scripted model, a
Langfuse stand-in (OTLP + Metrics API), and the agent server as a real process."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from agent_server.tests.langfuse_stub import LangfuseStub
from agent_server.tests.model_stub import ScriptedModel, ToolCall, tool_results
from agent_server.tests.postgres import Postgres, run_postgres
from agent_server.tests.server import AgentServerProcess
from tests.gateway.proxy import ProxyURL, run_proxy

AGENT_KEY = "agent-server-key-for-tests-0123456789"
GATEWAY_KEY = "sk-gateway-master-for-tests-0123456789"
LANGFUSE_PUBLIC, LANGFUSE_SECRET = "pk-lf-agent-tests", "sk-lf-agent-tests"
DB_PASSWORDS = {"langfuse": "lf-pw", "litellm": "ll-pw", "openwebui": "ow-pw", "agentserver": "agent-db-pw-1234"}
AGENT_MODEL = "agent-brain"
# What the platform assistant finds in Langfuse: rows as the Metrics API v2 names them
USAGE_ROWS = [
    {"providedModelName": "llama-3.2-1b", "count_count": 40, "sum_totalCost": "0.0", "avg_latency": 820.5,
     "p95_latency": 1900},
    {"providedModelName": "claude-haiku-4-5", "count_count": 10, "sum_totalCost": "0.42", "avg_latency": 1400,
     "p95_latency": 2600.25},
]


class Script:
    """The model's behaviour, replaceable per test: by default it calls the tool the prompt names
    (`use <tool> <json args>`) once, then answers with what the tool returned."""

    def __init__(self) -> None:
        self.override = None

    def __call__(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> Any:
        if self.override is not None:
            return self.override(messages, tools)
        return default_script(messages, tools)


def default_script(messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> Any:
    results = tool_results(messages)
    last = messages[-1]
    if last.get("role") == "tool":
        return f"Done. The tool said: {results[-1]}"
    prompt = str(last.get("content") or "")
    if prompt.startswith("use "):
        name, _, args = prompt[4:].partition(" ")
        import json

        return ToolCall(name, json.loads(args or "{}"))
    return "Nothing to do."


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    with run_postgres(DB_PASSWORDS) as server:
        yield server


@pytest.fixture(scope="session")
def script() -> Script:
    return Script()


@pytest.fixture(scope="session")
def model(script: Script) -> Iterator[ScriptedModel]:
    with ScriptedModel(script) as stub:
        yield stub


@pytest.fixture(scope="session")
def langfuse() -> Iterator[LangfuseStub]:
    with LangfuseStub(LANGFUSE_PUBLIC, LANGFUSE_SECRET, USAGE_ROWS) as stub:
        yield stub


@pytest.fixture(scope="session")
def gateway(model: ScriptedModel, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProxyURL]:
    """The real LiteLLM proxy: the agents' model goes to the scripted stand-in; a priced second
    model shows up in `/model/info`."""
    config = {
        "model_list": [
            {"model_name": AGENT_MODEL,
             "litellm_params": {"model": "hosted_vllm/scripted", "api_base": model.api_base}},
            {"model_name": "claude-haiku-4-5", "litellm_params": {
                "model": "bedrock/us.anthropic.claude-haiku-4-5-20251001-v1:0", "aws_region_name": "us-east-1"}},
        ],
        "general_settings": {"master_key": "os.environ/LITELLM_MASTER_KEY"},
    }
    with run_proxy(config, {"LITELLM_MASTER_KEY": GATEWAY_KEY}, workdir=tmp_path_factory.mktemp("gateway")) as url:
        yield url


def server_env(postgres: Postgres, gateway: str, langfuse: LangfuseStub, **overrides: str) -> dict[str, str]:
    return {
        "AGENT_SERVER_API_KEY": AGENT_KEY,
        "LITELLM_BASE_URL": gateway,
        "LITELLM_API_KEY": GATEWAY_KEY,
        "AGENT_MODEL": AGENT_MODEL,
        "DATABASE_URL": postgres.url("agentserver", DB_PASSWORDS["agentserver"]),
        "LANGFUSE_HOST": langfuse.url,
        "LANGFUSE_PUBLIC_KEY": LANGFUSE_PUBLIC,
        "LANGFUSE_SECRET_KEY": LANGFUSE_SECRET,
        **overrides,
    }


@pytest.fixture(scope="module")
def agent_server(postgres: Postgres, gateway: ProxyURL, langfuse: LangfuseStub,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgentServerProcess]:
    server = AgentServerProcess(server_env(postgres, gateway, langfuse), tmp_path_factory.mktemp("agent") / "log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _reset_script(script: Script) -> Iterator[None]:
    script.override = None
    yield
    script.override = None
