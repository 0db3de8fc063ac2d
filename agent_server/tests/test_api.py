"""The agent server end to end on loopback: real process, real LiteLLM proxy, real PostgreSQL."""

from __future__ import annotations

import json

import httpx2
import psycopg

from agent_server.tests.client import chat, headers, stream, streamed_text
from agent_server.tests.conftest import AGENT_MODEL, server_env
from agent_server.tests.model_stub import ToolCall, tool_results
from agent_server.tests.server import AgentServerProcess


def test_models_lists_one_model_per_agent(agent_server):
    response = httpx2.get(f"{agent_server.url}/v1/models", headers=headers())
    assert response.status_code == 200
    assert sorted(m["id"] for m in response.json()["data"]) == ["platform-assistant", "research-assistant"]


def test_wrong_or_missing_key_gets_401_in_openai_format(agent_server):
    for auth in ({"Authorization": "Bearer not-the-key"}, {}, {"Authorization": "Basic x"}):
        for method, path in (("GET", "/v1/models"), ("POST", "/v1/chat/completions")):
            response = httpx2.request(method, f"{agent_server.url}{path}", headers=auth,
                                      json={"model": "platform-assistant", "messages": []})
            assert response.status_code == 401, (auth, path)
            assert response.json()["error"]["code"] == "invalid_api_key"


def test_platform_assistant_streams_an_answer_built_on_the_tool_result(agent_server, model, langfuse):
    model.reset()
    events = stream(agent_server.url, "platform-assistant", 'use compare_models {"days": 7}',
                    chat_id="chat-stream-1", user_id="user-ada")

    # the model asked for the tool; the agent ran it against Langfuse's Metrics API with basic auth...
    query = langfuse.metric_queries[-1]
    assert query["view"] == "observations" and query["dimensions"] == [{"field": "providedModelName"}]
    # ...and the tool's result went back to the model (through the gateway) in the next step
    bodies = model.chat_bodies
    assert len(bodies) == 2 and bodies[0]["model"] == "scripted"
    [result] = tool_results(bodies[1]["messages"])
    assert json.loads(result)["cheapest_per_call"] == "llama-3.2-1b"
    assert json.loads(result)["slowest_avg_latency"] == "claude-haiku-4-5"

    # the final answer arrived as OpenAI chunks: role first, text in several deltas, stop, usage, [DONE]
    assert events[0]["choices"][0]["delta"]["role"] == "assistant"
    text_chunks = [e for e in events
                   if isinstance(e, dict) and e.get("choices") and e["choices"][0]["delta"].get("content")]
    assert len(text_chunks) > 3
    assert streamed_text(events).startswith("Done. The tool said: ") and "llama-3.2-1b" in streamed_text(events)
    assert [e["choices"][0]["finish_reason"] for e in events if isinstance(e, dict) and e.get("choices")][-1] == "stop"
    assert events[-2]["usage"]["total_tokens"] > 0 and events[-1] == "[DONE]"


def test_plain_completion_answers_with_a_message(agent_server):
    response = chat(agent_server.url, "research-assistant", 'use calculate {"expression": "2**10 / 4"}',
                    chat_id="chat-plain-1")
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "chat.completion" and body["choices"][0]["finish_reason"] == "stop"
    assert '"result":256.0' in body["choices"][0]["message"]["content"].replace(" ", "")


def test_run_is_traced_with_a_span_per_step_and_tool_in_the_chats_session(agent_server, langfuse):
    langfuse.reset()
    response = chat(agent_server.url, "research-assistant", 'use summarise {"text": "One. Two.", "max_sentences": 1}',
                    chat_id="chat-trace-1", user_id="user-grace")
    assert response.status_code == 200
    spans = langfuse.wait_for_spans(lambda s: s["attributes"].get("session.id") == "chat-trace-1", count=4)
    names = sorted(s["name"] for s in spans)
    assert names == [f"chat {AGENT_MODEL}"] * 2 + ["execute_tool summarise", "invoke_agent research-assistant"]
    assert len({s["trace_id"] for s in spans}) == 1
    for span in spans:
        assert span["attributes"]["user.id"] == "user-grace"
        assert span["attributes"]["langfuse.session.id"] == "chat-trace-1"
        assert span["authorization"] == langfuse.expected_auth
        assert span["resource"]["service.name"] == "agent-server"
    root = next(s for s in spans if s["name"].startswith("invoke_agent"))
    assert all(s["parent_span_id"] == root["span_id"] for s in spans if s is not root)


def test_memory_survives_a_restart(agent_server, model, script):
    prompt = 'use save_note {"title": "budget", "body": "Q3 budget is 1200 EUR"}'
    first = chat(agent_server.url, "research-assistant", prompt, chat_id="chat-memory-1", user_id="user-ada")
    assert first.status_code == 200
    # what Open WebUI shows and resends: the text only, without the tool call and its result
    earlier = [{"role": "user", "content": prompt},
               {"role": "assistant", "content": first.json()["choices"][0]["message"]["content"]}]
    agent_server.restart()

    model.reset()
    seen = []

    def recall(messages, tools):
        seen.append(messages)
        if messages[-1]["role"] == "tool":
            return f"From your notes: {tool_results(messages)[-1]}"
        return ToolCall("find_notes", {"query": "budget"})

    script.override = recall
    second = chat(agent_server.url, "research-assistant", "What was the budget?", earlier, chat_id="chat-memory-1")
    assert second.status_code == 200
    # the first turn with its tool call and result came back from PostgreSQL to the model
    first_request = seen[0]
    assert [m["role"] for m in first_request] == ["system", "user", "assistant", "tool", "assistant", "user"]
    assert first_request[2]["tool_calls"][0]["function"]["name"] == "save_note"
    # and the note itself is still there
    assert "Q3 budget is 1200 EUR" in second.json()["choices"][0]["message"]["content"]


def test_chats_do_not_share_memory_or_notes(agent_server, script):
    chat(agent_server.url, "research-assistant", 'use save_note {"title": "secret", "body": "alpha"}',
         chat_id="chat-a")
    captured = []
    script.override = lambda messages, tools: captured.append(messages) or "ok"
    chat(agent_server.url, "research-assistant", "anything stored?", chat_id="chat-b")
    assert "alpha" not in json.dumps(captured)


def test_bad_requests_get_openai_errors(agent_server):
    url = f"{agent_server.url}/v1/chat/completions"
    cases = [
        ({"model": "no-such-agent", "messages": [{"role": "user", "content": "hi"}]}, 404, "model"),
        ({"model": "platform-assistant", "messages": []}, 400, "messages"),
        ({"model": "platform-assistant", "messages": [{"role": "wizard", "content": "x"}]}, 400, "messages.0.role"),
        ({"model": "platform-assistant", "messages": [{"role": "assistant", "content": "x"}]}, 400, "messages.0.role"),
        ({"messages": [{"role": "user", "content": "x"}]}, 400, "model"),
    ]
    for body, status, param in cases:
        response = httpx2.post(url, json=body, headers=headers())
        assert response.status_code == status, body
        error = response.json()["error"]
        assert error["param"] == param and error["message"], body
    response = httpx2.post(url, content=b"{not json", headers={**headers(), "Content-Type": "application/json"})
    assert response.status_code == 400 and "JSON" in response.json()["error"]["message"]


def test_the_gateway_key_is_the_servers_own(postgres, gateway, langfuse, model, tmp_path):
    """A server holding a key LiteLLM does not accept gets a clear upstream error and no model call
    (without its database, LiteLLM refuses any key but the master key with a 400)."""
    model.reset()
    server = AgentServerProcess(server_env(postgres, gateway, langfuse, LITELLM_API_KEY="sk-wrong"),
                                tmp_path / "log").start()
    try:
        response = chat(server.url, "research-assistant", "hello", chat_id="chat-key")
        assert response.status_code == 502
        error = response.json()["error"]
        assert error["code"] == "gateway_error" and "the model gateway answered 400" in error["message"]
        events = stream(server.url, "research-assistant", "hello")
        assert events[-2]["error"]["code"] == "gateway_error" and events[-1] == "[DONE]"
        assert model.call_count == 0
    finally:
        server.stop()


def test_platform_assistant_chains_langfuse_metrics_and_the_gateways_model_info(agent_server, model, script):
    """Two tool steps in one run: measurements from Langfuse, then list prices from LiteLLM's real
    `/model/info` (read with the server's gateway key), then the answer."""
    model.reset()

    def analyst(messages, tools):
        results = tool_results(messages)
        if len(results) == 0:
            return ToolCall("compare_models", {"days": 7})
        if len(results) == 1:
            return ToolCall("gateway_models", {})
        prices = {m["model"]: m for m in json.loads(results[1])["models"]}
        slowest = json.loads(results[0])["slowest_avg_latency"]
        return f"Slowest this week: {slowest}, list price {prices[slowest]['input_usd_per_million_tokens']} USD/M input"

    script.override = analyst
    response = chat(agent_server.url, "platform-assistant", "Which model was slowest this week, and its price?",
                    chat_id="chat-chain", user_id="user-ada")
    assert response.status_code == 200
    answer = response.json()["choices"][0]["message"]["content"]
    # claude-haiku-4-5's input price comes from LiteLLM's bundled cost map through /model/info
    assert answer.startswith("Slowest this week: claude-haiku-4-5, list price ") and "None" not in answer
    assert len(model.chat_bodies) == 3


def test_replicas_are_interchangeable(agent_server, postgres, gateway, langfuse, script, tmp_path):
    """A chat started on one replica carries on, with its memory and notes, on another."""
    other = AgentServerProcess(server_env(postgres, gateway, langfuse), tmp_path / "log").start()
    try:
        prompt = 'use save_note {"title": "venue", "body": "Room 4.12, Thursday"}'
        first = chat(agent_server.url, "research-assistant", prompt, chat_id="chat-replicas")
        assert first.status_code == 200
        earlier = [{"role": "user", "content": prompt},
                   {"role": "assistant", "content": first.json()["choices"][0]["message"]["content"]}]
        seen = []
        script.override = lambda messages, tools: seen.append(messages) or "noted"
        second = chat(other.url, "research-assistant", "Where do we meet?", earlier, chat_id="chat-replicas")
        assert second.status_code == 200
        assert "Room 4.12, Thursday" in json.dumps(seen[0])
    finally:
        other.stop()


def test_a_regenerated_answer_is_built_from_the_turns_before_it(agent_server, script):
    """Open WebUI's regenerate resends the conversation up to the message being answered again:
    the agent must not see its own earlier answer to it, nor anything after it."""
    earlier: list[dict[str, str]] = []
    for question in ("first question", "second question"):
        answer = chat(agent_server.url, "research-assistant", question, earlier, chat_id="chat-regen")
        earlier += [{"role": "user", "content": question},
                    {"role": "assistant", "content": answer.json()["choices"][0]["message"]["content"]}]
    seen = []
    script.override = lambda messages, tools: seen.append(messages) or "second answer, take two"
    again = chat(agent_server.url, "research-assistant", "second question", earlier[:2], chat_id="chat-regen")
    assert again.status_code == 200
    assert [m.get("content") for m in seen[0] if m["role"] == "user"] == ["first question", "second question"]
    # the next turn continues from the regenerated answer
    seen.clear()
    chat(agent_server.url, "research-assistant", "third question",
         earlier[:3] + [{"role": "assistant", "content": "second answer, take two"}], chat_id="chat-regen")
    assert [m.get("content") for m in seen[0] if m["role"] == "assistant"] == ["Nothing to do.",
                                                                              "second answer, take two"]


def test_a_failing_run_is_an_openai_error_not_a_broken_connection(postgres, gateway, langfuse, tmp_path):
    """Its memory table gone (a bug, a bad migration): a 500 in OpenAI's shape, in the stream too."""
    with psycopg.connect(postgres.url(postgres.superuser, postgres.superuser_password), autocommit=True) as admin:
        admin.execute("CREATE ROLE flaky LOGIN PASSWORD 'flaky-pw'")
        admin.execute("CREATE DATABASE flaky OWNER flaky")
    server = AgentServerProcess(server_env(postgres, gateway, langfuse, DATABASE_URL=postgres.url("flaky", "flaky-pw")),
                                tmp_path / "log").start()
    try:
        with psycopg.connect(postgres.url("flaky", "flaky-pw"), autocommit=True) as owner:
            owner.execute("DROP TABLE agent_runs")
        response = chat(server.url, "research-assistant", "hello", chat_id="chat-broken")
        assert response.status_code == 500 and response.json()["error"]["code"] == "internal_error"
        events = stream(server.url, "research-assistant", "hello", chat_id="chat-broken")
        assert events[-2]["error"]["type"] == "server_error" and events[-1] == "[DONE]"
        assert "agent run failed" in server.log_text()
    finally:
        server.stop()


def test_a_task_request_on_the_same_chat_never_replaces_the_chats_turn(agent_server, script):
    """Open WebUI sends its title/tags/follow-up prompts with the chat's id, as a one-message
    conversation, possibly while the answer still streams: the chat's memory must keep the user's
    turn, and the next turn must see the user's question and the agent's answer, not the task."""
    script.override = lambda messages, tools: "The budget is 1200 EUR."
    question = "What is the Q3 budget?"
    answer = chat(agent_server.url, "research-assistant", question, chat_id="chat-task", user_id="u1")
    assert answer.status_code == 200
    task = ("### Task:\nGenerate a concise title for the chat history.\n### Chat History:\n<chat_history>\n"
            f"USER: {question}\nASSISTANT: The budget is 1200 EUR.\n</chat_history>")
    script.override = lambda messages, tools: '{"title": "Quarterly money"}'
    assert chat(agent_server.url, "research-assistant", task, chat_id="chat-task", user_id="u1").status_code == 200
    seen = []
    script.override = lambda messages, tools: seen.append(messages) or "About 1300 USD."
    earlier = [{"role": "user", "content": question}, {"role": "assistant", "content": "The budget is 1200 EUR."}]
    chat(agent_server.url, "research-assistant", "And in USD?", earlier, chat_id="chat-task", user_id="u1")
    assert [m.get("content") for m in seen[0] if m["role"] == "user"] == [question, "And in USD?"]
    assert [m.get("content") for m in seen[0] if m["role"] == "assistant"] == ["The budget is 1200 EUR."]
    assert "Quarterly money" not in json.dumps(seen[0]) and "### Task" not in json.dumps(seen[0])
