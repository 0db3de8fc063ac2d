"""Conversation memory and notes in PostgreSQL, so any replica can carry on any chat.

One row per agent run (`agent_runs`): the messages that run added (user prompt, model
responses, tool calls and their results) as pydantic-ai's JSON, and its `turn` (how many user
messages came before it in the chat). A chat's history for turn N is, for each earlier turn, its
latest run: a regenerated or edited message replaces that turn's answer instead of piling up.
Notes (`chat_notes`) belong to one chat.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool
from pydantic_ai import ModelMessagesTypeAdapter
from pydantic_ai.messages import ModelMessage

SCHEMA = """
CREATE TABLE IF NOT EXISTS agent_runs (
    id          bigserial PRIMARY KEY,
    chat_id     text        NOT NULL,
    agent       text        NOT NULL,
    turn        integer     NOT NULL,
    user_id     text,
    messages    jsonb       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS agent_runs_chat ON agent_runs (chat_id, agent, turn, id);
CREATE TABLE IF NOT EXISTS chat_notes (
    id          bigserial PRIMARY KEY,
    chat_id     text        NOT NULL,
    user_id     text,
    title       text        NOT NULL,
    body        text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS chat_notes_chat ON chat_notes (chat_id, id);
"""

# Replicas start together: serialise the CREATE IF NOT EXISTS (it races on the catalog otherwise)
_SCHEMA_LOCK = 0x6167656E74  # any constant shared by every replica


@dataclass(frozen=True)
class Note:
    id: int
    title: str
    body: str


class Store:
    """The agent server's PostgreSQL state, through an async connection pool."""

    def __init__(self, database_url: str, *, min_size: int = 1, max_size: int = 10) -> None:
        self._pool = AsyncConnectionPool(database_url, min_size=min_size, max_size=max_size, open=False,
                                         kwargs={"autocommit": True})

    async def open(self) -> None:
        await self._pool.open(wait=True, timeout=30)
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            await conn.execute(SCHEMA)

    async def close(self) -> None:
        await self._pool.close()

    async def ping(self) -> None:
        async with self._pool.connection() as conn:
            await conn.execute("SELECT 1")

    # -- conversation memory -------------------------------------------------------------------
    async def history(self, chat_id: str, agent: str, *, before_turn: int, last_runs: int) -> list[ModelMessage]:
        """The messages of the chat's turns before `before_turn` with `agent` (each turn's latest
        run; the last `last_runs` turns), oldest first."""
        async with self._pool.connection() as conn:
            rows = await (await conn.execute(
                "SELECT messages FROM (SELECT DISTINCT ON (turn) turn, messages FROM agent_runs "
                "WHERE chat_id = %s AND agent = %s AND turn < %s ORDER BY turn DESC, id DESC LIMIT %s) AS recent "
                "ORDER BY turn",
                (chat_id, agent, before_turn, last_runs),
            )).fetchall()
        messages: list[ModelMessage] = []
        for (stored,) in rows:
            messages.extend(ModelMessagesTypeAdapter.validate_python(stored))
        return messages

    async def append_run(self, chat_id: str, agent: str, turn: int, user_id: Optional[str],
                         messages: Sequence[ModelMessage]) -> None:
        """Store what one run (the answer to the chat's `turn`-th user message, from 0) added."""
        payload = ModelMessagesTypeAdapter.dump_python(list(messages), mode="json")
        async with self._pool.connection() as conn:
            await conn.execute(
                "INSERT INTO agent_runs (chat_id, agent, turn, user_id, messages) VALUES (%s, %s, %s, %s, %s)",
                (chat_id, agent, turn, user_id, Jsonb(payload)),
            )

    # -- notes ---------------------------------------------------------------------------------
    async def add_note(self, chat_id: str, user_id: Optional[str], title: str, body: str) -> Note:
        async with self._pool.connection() as conn:
            row = await (await conn.execute(
                "INSERT INTO chat_notes (chat_id, user_id, title, body) VALUES (%s, %s, %s, %s) RETURNING id",
                (chat_id, user_id, title, body),
            )).fetchone()
        return Note(row[0], title, body)

    async def notes(self, chat_id: str, query: str = "") -> list[Note]:
        """The chat's notes, oldest first; with `query`, only those whose title or body contain it."""
        escaped = query.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        async with self._pool.connection() as conn:
            rows = await (await conn.execute(
                "SELECT id, title, body FROM chat_notes WHERE chat_id = %s AND (title ILIKE %s OR body ILIKE %s) "
                "ORDER BY id",
                (chat_id, pattern, pattern),
            )).fetchall()
        return [Note(*row) for row in rows]
