"""Conversation memory and notes in a real PostgreSQL, as the agent server's own role."""

from __future__ import annotations

import asyncio
import uuid

import psycopg
import pytest
from pydantic_ai.messages import (ModelRequest, ModelResponse, TextPart, ToolCallPart, ToolReturnPart,
                                  UserPromptPart)

from agent_server.memory import Store
from agent_server.tests.conftest import DB_PASSWORDS


@pytest.fixture()
def database_url(postgres) -> str:
    return postgres.url("agentserver", DB_PASSWORDS["agentserver"])


def run(coroutine):
    return asyncio.run(coroutine)


async def _with_store(url: str, body):
    store = Store(url)
    await store.open()
    try:
        return await body(store)
    finally:
        await store.close()


def turn(question: str, answer: str) -> list:
    return [
        ModelRequest(parts=[UserPromptPart(question)]),
        ModelResponse(parts=[ToolCallPart("find_notes", {"query": question}, tool_call_id="c1")]),
        ModelRequest(parts=[ToolReturnPart("find_notes", {"notes": []}, tool_call_id="c1")]),
        ModelResponse(parts=[TextPart(answer)]),
    ]


def flat(history: dict) -> list:
    return [m for turn in sorted(history) for m in history[turn]]


def test_history_round_trips_tool_calls_and_keeps_only_the_last_runs(database_url):
    chat = f"chat-{uuid.uuid4().hex}"
    first = turn("q0", "a0")

    async def body(store: Store):
        await store.append_run(chat, "research-assistant", 0, "user-1", first)
        for i in (1, 2):
            await store.append_run(chat, "research-assistant", i, "user-1", turn(f"q{i}", f"a{i}"))
        await store.append_run(chat, "platform-assistant", 0, "user-1", turn("q0", "other agent"))
        return (await store.history(chat, "research-assistant", ["q0", "q1", "q2"], last_runs=10),
                await store.history(chat, "research-assistant", ["q0", "q1", "q2"], last_runs=2))

    everything, recent = run(_with_store(database_url, body))
    assert everything[0] == first  # parts, ids, arguments and timestamps come back equal
    assert [m.parts[0].content for m in flat(everything)[::4]] == ["q0", "q1", "q2"]
    assert sorted(recent) == [1, 2] and [m.parts[0].content for m in flat(recent)[::4]] == ["q1", "q2"]


def test_a_regenerated_turn_replaces_the_old_answer_and_later_turns_drop_out(database_url):
    chat = f"chat-{uuid.uuid4().hex}"

    async def body(store: Store):
        for i in range(3):
            await store.append_run(chat, "research-assistant", i, None, turn(f"q{i}", f"a{i}"))
        await store.append_run(chat, "research-assistant", 1, None, turn("q1", "a1 again"))
        await store.append_run(chat, "research-assistant", 1, None, turn("q1 edited", "a1 edited"))
        return (await store.history(chat, "research-assistant", ["q0"], last_runs=10),
                await store.history(chat, "research-assistant", ["q0", "q1"], last_runs=10),
                await store.history(chat, "research-assistant", ["q0", "q1 edited", "q2"], last_runs=10))

    answering_1, answering_2, answering_3 = run(_with_store(database_url, body))
    answers = lambda history: [m.parts[0].content for m in flat(history)[3::4]]  # noqa: E731
    assert answers(answering_1) == ["a0"]  # regenerating turn 1 sees neither old answer nor turn 2
    assert answers(answering_2) == ["a0", "a1 again"]  # the latest run that answered "q1"
    assert answers(answering_3) == ["a0", "a1 edited", "a2"]


def test_a_task_or_concurrent_run_on_the_chat_id_never_stands_in_for_a_turn(database_url):
    """Open WebUI's title/tags/follow-up requests carry the chat id and are a one-message
    conversation (turn 0), stored after the answer they describe: they must not become turn 0."""
    chat = f"chat-{uuid.uuid4().hex}"

    async def body(store: Store):
        await store.append_run(chat, "research-assistant", 0, "u", turn("What is the budget?", "1200 EUR"))
        await store.append_run(chat, "research-assistant", 0, "u", turn("### Task: title this chat", "Budget"))
        return (await store.history(chat, "research-assistant", ["What is the budget?"], last_runs=10),
                await store.history(chat, "research-assistant", ["something else"], last_runs=10))

    history, unknown = run(_with_store(database_url, body))
    assert flat(history)[0].parts[0].content == "What is the budget?"
    assert flat(history)[-1].parts[0].content == "1200 EUR"
    assert unknown == {}  # a turn nobody stored is left to the caller's own text


def test_a_second_store_sees_the_first_ones_writes(database_url):
    """Replicas are interchangeable: state is only in PostgreSQL (and both create the schema at once)."""
    chat = f"chat-{uuid.uuid4().hex}"

    async def body():
        first, second = Store(database_url), Store(database_url)
        await asyncio.gather(first.open(), second.open())
        try:
            await first.append_run(chat, "research-assistant", 0, None, turn("q", "a"))
            await first.add_note(chat, None, "t", "b")
            return (flat(await second.history(chat, "research-assistant", ["q"], last_runs=5)),
                    await second.notes(chat))
        finally:
            await asyncio.gather(first.close(), second.close())

    history, notes = run(body())
    assert len(history) == 4 and [n.title for n in notes] == ["t"]


def test_notes_belong_to_their_chat_and_search_matches_literally(database_url):
    a, b = f"chat-{uuid.uuid4().hex}", f"chat-{uuid.uuid4().hex}"

    async def body(store: Store):
        await store.add_note(a, "u", "Budget", "Q3 is 100% spent")
        await store.add_note(a, "u", "Travel", "Berlin in May")
        await store.add_note(b, "u", "Budget", "other chat")
        return (await store.notes(a), await store.notes(a, "budget"), await store.notes(a, "100%"),
                await store.notes(a, "1_0"), await store.notes(b))

    all_a, budget, percent, underscore, all_b = run(_with_store(database_url, body))
    assert [n.title for n in all_a] == ["Budget", "Travel"]
    assert [n.title for n in budget] == ["Budget"] and [n.title for n in percent] == ["Budget"]
    assert underscore == [] and [n.body for n in all_b] == ["other chat"]


def test_the_role_is_confined_to_its_own_database(postgres):
    """The init script made role `agentserver` own database `agentserver`, and no other app's
    database lets it in (PostgreSQL grants CONNECT to PUBLIC on a new database unless revoked)."""
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(postgres.url("agentserver", DB_PASSWORDS["agentserver"], "litellm")).close()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(postgres.url("agentserver", "wrong-password")).close()
