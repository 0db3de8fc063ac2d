"""What `make e2e` asserts beyond the answers on screen: Open WebUI's state in its own database,
and the Langfuse OTLP capture holding each call with the Open WebUI user and chat."""

from __future__ import annotations

import threading
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


def check_traces(otlp: OtlpStub, user_id: str, chats: list[dict[str, str]]) -> list[str]:
    """Every chat reached Langfuse's OTLP endpoint as the Open WebUI user; the agent's runs also in
    the chat's session. Returns the gaps found (a gateway call whose session is not the chat)."""
    def attrs(span: dict[str, Any]) -> dict[str, Any]:
        return span.get("attributes") or {}

    gaps = []
    for chat in chats:
        chat_id, model = chat["chat_id"], chat["model"]
        if chat["label"] == "agent":  # the agent server's run spans: session = chat, user = the user
            spans = otlp.wait_for_spans(lambda s: attrs(s).get("langfuse.session.id") == chat_id
                                        and s.get("name") == f"invoke_agent {model}", timeout=30)
        else:  # the gateway's generation that produced the answer on screen
            # (streamed generations carry no llm.model_name; the echoed prompt names the chat)
            spans = otlp.wait_for_spans(lambda s: attrs(s).get("output.value") == chat["expected"], timeout=30)
            sessions = {attrs(s).get("session.id") for s in spans}
            if chat_id not in sessions:
                gaps.append(f"{model}: the gateway's span has session {sessions}, not the chat {chat_id}")
        users = {attrs(s).get("user.id") for s in spans}
        assert users == {user_id}, f"{model}: spans carry users {users}, not the Open WebUI user {user_id}"
        print(f"e2e: {model}: in Langfuse's capture as Open WebUI user {user_id}", flush=True)
    return gaps
