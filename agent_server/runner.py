"""One agent run: memory in, model steps and tool calls through the gateway, text deltas out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Optional

from pydantic_ai import Agent
from pydantic_ai.exceptions import AgentRunError, ModelHTTPError
from pydantic_ai.messages import (ModelMessage, ModelRequest, PartDeltaEvent, PartStartEvent, TextPart,
                                  TextPartDelta)

from agent_server.agents import RunDeps
from agent_server.memory import prompt_of
from agent_server.openai_api import ApiError
from agent_server.tracing import run_context

@dataclass
class RunOutcome:
    """Filled in when the run ends."""

    input_tokens: int = 0
    output_tokens: int = 0
    text: list[str] = field(default_factory=list)


async def run(agent: Agent[RunDeps, str], name: str, deps: RunDeps, prompt: str,
              request_history: list[ModelMessage], instructions: list[str], history_runs: int,
              outcome: RunOutcome) -> AsyncIterator[str]:
    """Run `agent` on `prompt`, yielding the answer's text as it streams; store the run in the chat.

    The caller's turns say which turn this is and what each earlier user message was: a stored
    run (tool calls and results included) stands in for an earlier turn only when it answered
    that same message, so a regenerated or edited message is answered from the turns before it,
    and a task or concurrent request on the same chat id cannot replace one of the chat's turns.
    Only the last `history_runs` turns are sent."""
    prefix, turns = split_turns(request_history)
    turn = len(turns)
    stored: dict[int, list[ModelMessage]] = {}
    if deps.chat_id:
        stored = await deps.store.history(deps.chat_id, name, [p for p, _ in turns], last_runs=history_runs)
    first = max(0, turn - history_runs)
    history = prefix + [m for i in range(first, turn) for m in stored.get(i, turns[i][1])]
    settings = {"extra_headers": gateway_headers(deps)} if deps.user_id or deps.chat_id else None
    with run_context(deps.chat_id, deps.user_id):
        try:
            async with agent.run_stream_events(
                prompt, message_history=history, deps=deps, instructions="\n\n".join(instructions) or None,
                conversation_id=deps.chat_id, model_settings=settings,
            ) as events:
                async for event in events:
                    text = _text_of(event)
                    if text:
                        outcome.text.append(text)
                        yield text
                usage = events.usage
                new_messages = events.new_messages()
        except ModelHTTPError as exc:
            raise ApiError(502, f"the model gateway answered {exc.status_code}: {str(exc.body)[:300]}",
                           type="api_error", code="gateway_error") from None
        except AgentRunError as exc:
            raise ApiError(502, f"the agent run failed: {exc}", type="api_error", code="agent_error") from None
    outcome.input_tokens, outcome.output_tokens = usage.input_tokens or 0, usage.output_tokens or 0
    if deps.chat_id:
        await deps.store.append_run(deps.chat_id, name, turn, deps.user_id, new_messages)


def split_turns(messages: list[ModelMessage]) -> tuple[list[ModelMessage], list[tuple[str, list[ModelMessage]]]]:
    """(what comes before the first user message, [(a user message's text, it and the replies
    after it)]), the caller's conversation cut into turns."""
    prefix: list[ModelMessage] = []
    turns: list[tuple[str, list[ModelMessage]]] = []
    for message in messages:
        if isinstance(message, ModelRequest):
            turns.append((prompt_of([message]) or "", [message]))
        elif turns:
            turns[-1][1].append(message)
        else:
            prefix.append(message)
    return prefix, turns


def gateway_headers(deps: RunDeps) -> dict[str, str]:
    """What the run's gateway calls carry: the Open WebUI user (LiteLLM's end user) and the chat
    (LiteLLM's session), so the model calls join the chat's Langfuse session and user."""
    headers = {}
    if deps.user_id:
        headers[deps.config.gateway_user_header] = deps.user_id
    if deps.chat_id:
        headers[deps.config.gateway_session_header] = deps.chat_id
    return headers


def _text_of(event: object) -> Optional[str]:
    if isinstance(event, PartStartEvent) and isinstance(event.part, TextPart):
        return event.part.content or None
    if isinstance(event, PartDeltaEvent) and isinstance(event.delta, TextPartDelta):
        return event.delta.content_delta or None
    return None
