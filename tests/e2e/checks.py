"""What `make e2e` asserts beyond the answers on screen: Open WebUI's state in its own database,
and the Langfuse OTLP capture holding each call with the Open WebUI user and chat."""

from __future__ import annotations

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
    which backend answered which prompt."""
    for label, stub in [*(("vLLM", s) for s in gw.vllm.values()), ("Bedrock", gw.bedrock)]:
        route = stub.route

        def echoing(request, _route=route, _stub=stub, _label=label):
            body = request.json or {}
            if isinstance(body, dict) and body.get("messages"):
                _stub.reply_text = f"{_label} stub answers: {_last_user_text(body['messages'])}"
            return _route(request)

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


def check_traces(otlp: OtlpStub, user_id: str, chat_ids: dict[str, str], agent: str) -> None:
    """Every chat reached Langfuse's OTLP endpoint as the Open WebUI user and in its chat session."""
    def attrs(span: dict[str, Any]) -> dict[str, Any]:
        return span.get("attributes") or {}

    for model, chat_id in chat_ids.items():
        spans = otlp.wait_for_spans(lambda s, c=chat_id: c in attrs(s).values(), timeout=30)
        users = {attrs(s).get("user.id") or attrs(s).get("langfuse.user.id") for s in spans}
        assert user_id in users, f"{model}: spans in chat {chat_id} carry users {users}, not {user_id}"
        print(f"e2e: {model}: {len(spans)} span(s) in Langfuse with user {user_id} and session {chat_id}", flush=True)
    assert any(agent in s.get("name", "") for s in otlp.spans), f"no agent run span for {agent}"
