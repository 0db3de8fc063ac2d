"""Conversation memory and notes in PostgreSQL, so any replica can carry on any chat.

One row per agent run (`agent_runs`): the messages that run added (user prompt, model
responses, tool calls and their results) as pydantic-ai's JSON, its `turn` (how many user
messages came before it in the chat) and its `prompt` (that user message). A chat's history for
turn N is, for each earlier turn, its latest run *whose prompt is the user message the caller
sent for that turn*: a regenerated answer replaces the old one, and another request on the same
chat id (Open WebUI's title/tags/follow-up tasks, a concurrent request) is stored beside the
chat's turns but never taken for one. Notes (`chat_notes`) belong to one chat.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool
from pydantic_ai import ModelMessagesTypeAdapter
from pydantic_ai.messages import ModelMessage, ModelRequest, UserPromptPart

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
-- added after the first release: rows stored before it have no prompt and are never matched
ALTER TABLE agent_runs ADD COLUMN IF NOT EXISTS prompt text;
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


def prompt_of(messages: Sequence[ModelMessage]) -> Optional[str]:
    """The text of the first user message in `messages` (a run's prompt)."""
    for message in messages:
        if isinstance(message, ModelRequest):
            for part in message.parts:
                if isinstance(part, UserPromptPart) and isinstance(part.content, str):
                    return part.content
    return None


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
    async def history(self, chat_id: str, agent: str, prompts: Sequence[str], *,
                      last_runs: int) -> dict[int, list[ModelMessage]]:
        """The stored runs of the chat's turns with `agent`, by turn: for each of the last `last_runs`
        turns `i` of `prompts` (the user messages the caller sent, oldest first), the latest run
        of turn `i` whose prompt is `prompts[i]`; turns without such a run are left out."""
        first = max(0, len(prompts) - last_runs)
        async with self._pool.connection() as conn:
            rows = await (await conn.execute(
                "SELECT DISTINCT ON (turn) turn, messages FROM agent_runs "
                "WHERE chat_id = %s AND agent = %s AND turn >= %s AND turn < %s "
                "AND prompt = (%s::text[])[turn + 1] ORDER BY turn, id DESC",
                (chat_id, agent, first, len(prompts), list(prompts)),
            )).fetchall()
        return {turn: ModelMessagesTypeAdapter.validate_python(stored) for turn, stored in rows}

    async def append_run(self, chat_id: str, agent: str, turn: int, user_id: Optional[str],
                         messages: Sequence[ModelMessage]) -> None:
        """Store what one run (the answer to the chat's `turn`-th user message, from 0) added; its
        prompt is the run's first user message."""
        payload = ModelMessagesTypeAdapter.dump_python(list(messages), mode="json")
        async with self._pool.connection() as conn:
            await conn.execute(
                "INSERT INTO agent_runs (chat_id, agent, turn, user_id, prompt, messages) "
                "VALUES (%s, %s, %s, %s, %s, %s)",
                (chat_id, agent, turn, user_id, prompt_of(messages), Jsonb(payload)),
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
