"""Research assistant: keeps notes per chat, calculates and summarises, and remembers the chat."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field
from pydantic_ai import Agent, RunContext
from pydantic_ai.capabilities import Instrumentation
from pydantic_ai.models import Model
from pydantic_ai.models.instrumented import InstrumentationSettings

from agent_server.agents import AgentDefinition, RunDeps
from agent_server.tools.calculator import CalculationError, calculate as evaluate
from agent_server.tools.summarise import summarise as extract

NAME = "research-assistant"
INSTRUCTIONS = """\
You are a research assistant. Save facts, figures and sources the user wants kept with
`save_note`, and look them up with `find_notes` before answering questions about earlier work.
Use `calculate` for any arithmetic instead of doing it yourself, and `summarise` to condense long
text the user pastes. Say which notes an answer relies on.
"""
NO_CHAT = {"error": "notes need a chat: this request carried no X-OpenWebUI-Chat-Id header"}


async def save_note(ctx: RunContext[RunDeps], title: Annotated[str, Field(min_length=1, max_length=200)],
                    body: Annotated[str, Field(min_length=1, max_length=20000)]) -> dict[str, Any]:
    """Keep a note in this chat (it survives restarts and is visible to every later turn)."""
    if not ctx.deps.chat_id:
        return NO_CHAT
    note = await ctx.deps.store.add_note(ctx.deps.chat_id, ctx.deps.user_id, title.strip(), body.strip())
    return {"saved": note.id, "title": note.title}


async def find_notes(ctx: RunContext[RunDeps], query: str = "") -> dict[str, Any]:
    """This chat's notes whose title or text contains `query` (all notes when empty)."""
    if not ctx.deps.chat_id:
        return NO_CHAT
    notes = await ctx.deps.store.notes(ctx.deps.chat_id, query)
    return {"notes": [{"id": n.id, "title": n.title, "body": n.body} for n in notes]}


def calculate(expression: str) -> dict[str, Any]:
    """Evaluate arithmetic: + - * / // % **, parentheses, pi, e, sqrt, log, log10, exp, abs, round, min, max."""
    try:
        return {"expression": expression, "result": evaluate(expression)}
    except CalculationError as exc:
        return {"expression": expression, "error": str(exc)}


def summarise(text: str, max_sentences: Annotated[int, Field(ge=1, le=20)] = 3) -> str:
    """The most representative `max_sentences` sentences of `text`, in their original order."""
    return extract(text, max_sentences)


def build(model: Model, instrumentation: InstrumentationSettings) -> Agent[RunDeps, str]:
    return Agent(model, name=NAME, deps_type=RunDeps, instructions=INSTRUCTIONS,
                 tools=[save_note, find_notes, calculate, summarise], capabilities=[Instrumentation(instrumentation)])


DEFINITION = AgentDefinition(NAME, "Notes per chat in PostgreSQL, a calculator and a summariser, with memory", build)
