"""What `make e2e` asserts beyond the answers on screen: Open WebUI's state in its own database,
and the Langfuse OTLP capture holding each call with the Open WebUI user and chat."""

from __future__ import annotations

import threading
import time
from typing import Any

from tests.gateway.loopback import GatewayRun
from tests.gateway.stubs import OtlpStub
from tests.postgres_server import Postgres


def _last_user_text(messages: list[Any]) -> str:
    for message in reversed(messages or []):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            return " ".join(str(p.get("text", "")) for p in content or [] if isinstance(p, dict))
    return ""


def echo_prompts(gw: GatewayRun) -> None:
    """Each stand-in answers "<backend> stub answers: <the last user message>", so the screen shows
    which backend answered which prompt.

    The stubs read `reply_text` while they stream (their chunks are generators, run after the route
    returns), and Open WebUI sends its background tasks (title, tags, follow-ups) while an answer
    may still stream: one lock per stub makes set-reply-and-render atomic, and the chunks are
    rendered before the lock is released, so a concurrent request cannot swap another's answer."""
    for label, stub in [*(("vLLM", s) for s in gw.vllm.values()), ("Bedrock", gw.bedrock)]:
        route = stub.route
        lock = threading.Lock()

        def echoing(request, _route=route, _stub=stub, _label=label, _lock=lock):
            body = request.json or {}
            with _lock:
                if isinstance(body, dict) and body.get("messages"):
                    _stub.reply_text = f"{_label} stub answers: {_last_user_text(body['messages'])}"
                response = _route(request)
                if response.chunks is not None:
                    response.chunks = list(response.chunks)
            return response

        stub.route = echoing


def check_open_webui_database(pg: Postgres, password: str, admin_email: str) -> str:
    """Open WebUI migrated its own database (tables owned by its role), keeps RAG vectors in
    pgvector, and holds the admin; returns the admin's user id."""
    def query(sql: str) -> str:
        result = pg.psql("openwebui", password, "openwebui", "-c", sql)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    owners = query("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")
    assert owners == "openwebui", f"Open WebUI's tables are owned by {owners!r}"
    assert query("SELECT count(*) FROM alembic_version") == "1", "Open WebUI's migrations did not run"
    vector = query("SELECT udt_name FROM information_schema.columns WHERE table_name = 'document_chunk' "
                   "AND column_name = 'vector'")
    assert vector == "vector", f"no pgvector column in document_chunk: {vector!r}"
    user_id = query(f"SELECT id FROM \"user\" WHERE email = '{admin_email}' AND role = 'admin'")
    assert user_id, f"no admin {admin_email} in Open WebUI's database"
    print(f"e2e: Open WebUI's database: migrated, pgvector store, admin {admin_email}", flush=True)
    return user_id


TASK_MARK = "stub answers: ### Task:"  # an echoed title/tags/follow-up prompt (Open WebUI's task templates)


def check_traces(otlp: OtlpStub, user_id: str, chats: list[dict[str, str]], task_backend: str) -> None:
    """Langfuse's OTLP endpoint holds each chat as Open WebUI's user and the chat's session:
    - the gateway's generation of the answer on screen (the agent's own gateway call included:
      the agent server forwards the chat and the user), `session.id` = the chat, `user.id` = the user;
    - the agent server's run, `langfuse.session.id` = the chat, `langfuse.user.id` = the user;
    - Open WebUI's background tasks of each chat reached the gateway's task model (`task_backend`
      answered them) in the chat's session, and the agent ran once per agent chat: its tasks did
      not go to the agent."""
    def attrs(span: dict[str, Any]) -> dict[str, Any]:
        return span.get("attributes") or {}

    def of_chat(span: dict[str, Any], chat_id: str) -> bool:
        return span.get("name") == "litellm_request" and attrs(span).get("session.id") == chat_id

    for chat in chats:
        chat_id, model = chat["chat_id"], chat["model"]
        # (streamed generations carry no llm.model_name: the echoed prompt names the chat)
        answer = otlp.wait_for_spans(lambda s: attrs(s).get("output.value") == chat["expected"], timeout=30)
        who = {(attrs(s).get("session.id"), attrs(s).get("user.id")) for s in answer}
        assert who == {(chat_id, user_id)}, (
            f"{model}: the gateway's generation carries (session, user) {who}, not ({chat_id}, {user_id})")
        tasks = otlp.wait_for_spans(lambda s: of_chat(s, chat_id) and TASK_MARK in str(attrs(s).get("output.value")),
                                    timeout=30)
        backends = {str(attrs(s).get("output.value")).split(" stub answers:")[0] for s in tasks}
        assert backends == {task_backend}, f"{model}: its task requests were answered by {backends}, not {task_backend}"
        assert {attrs(s).get("user.id") for s in tasks} == {user_id}, f"{model}: task spans without the user"
        if chat["label"] == "agent":
            time.sleep(2)  # the spans of a task run by the agent would have arrived with the tasks' own
            runs = [s for s in otlp.spans if s.get("name") == f"invoke_agent {model}"
                    and attrs(s).get("langfuse.session.id") == chat_id]
            assert len(runs) == 1, f"{model}: {len(runs)} agent runs in chat {chat_id}, expected the answer's only"
            run_user = {attrs(s).get("langfuse.user.id") for s in runs}
            assert run_user == {user_id}, f"{model}: the agent's run carries user {run_user}, not {user_id}"
        print(f"e2e: {model}: in Langfuse's capture with session {chat_id} and user {user_id} "
              f"(answer, {len(tasks)} task request(s) on the task model)", flush=True)
