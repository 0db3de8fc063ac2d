"""Settings from the environment: a missing or malformed value names the variable and the fix."""

from __future__ import annotations

import pytest

from agent_server.config import Config, ConfigError

GOOD = {"AGENT_SERVER_API_KEY": "k", "LITELLM_BASE_URL": "http://litellm:4000/", "LITELLM_API_KEY": "sk-1",
        "AGENT_MODEL": "llama-3.2-1b", "DATABASE_URL": "postgresql://agentserver:pw@postgres:5432/agentserver"}


def test_a_complete_environment_loads():
    config = Config.from_env(GOOD)
    assert config.gateway_url == "http://litellm:4000" and config.langfuse_url is None and config.port == 5000


@pytest.mark.parametrize("change, names", [
    ({"AGENT_SERVER_API_KEY": ""}, "AGENT_SERVER_API_KEY is not set"),
    ({"LITELLM_BASE_URL": "litellm:4000"}, "LITELLM_BASE_URL='litellm:4000' is not an http(s) URL"),
    ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL is not a postgresql:// URL"),
    ({"LANGFUSE_HOST": "http://langfuse:3000"}, "LANGFUSE_PUBLIC_KEY/LANGFUSE_SECRET_KEY are not"),
    ({"AGENT_HISTORY_RUNS": "many"}, "AGENT_HISTORY_RUNS='many' is not a whole number"),
    ({"PORT": "70000"}, "PORT=70000 is out of range"),
])
def test_bad_values_name_the_variable(change, names):
    with pytest.raises(ConfigError, match=names.replace("(", r"\(").replace(")", r"\)")):
        Config.from_env({**GOOD, **change})


def test_the_server_exits_with_the_message_not_a_traceback(tmp_path):
    import subprocess
    import sys

    from agent_server.tests.server import REPO

    result = subprocess.run([sys.executable, "-m", "agent_server"], cwd=REPO, capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)}, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip() == ("agent-server: DATABASE_URL is not set: "
                                     "postgresql://<role>:<password>@<host>:5432/<database>")


def test_gateway_calls_carry_the_chat_as_litellms_session_and_the_user():
    """A run on behalf of an Open WebUI chat sends LiteLLM the chat id in its session header and the
    user in its end-user header, under the names the Deployment sets (or LiteLLM's defaults)."""
    from agent_server.agents import RunDeps
    from agent_server.runner import gateway_headers

    renamed = Config.from_env({**GOOD, "GATEWAY_SESSION_HEADER": "X-Session", "GATEWAY_USER_HEADER": "X-User"})
    for config, session, user in ((Config.from_env(GOOD), "X-LiteLLM-Session-Id", "X-OpenWebUI-User-Id"),
                                  (renamed, "X-Session", "X-User")):
        deps = RunDeps(config, None, None, "chat-7", "user-3")
        assert gateway_headers(deps) == {session: "chat-7", user: "user-3"}
    assert gateway_headers(RunDeps(Config.from_env(GOOD), None, None, None, None)) == {}
