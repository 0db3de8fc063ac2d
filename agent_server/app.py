"""The HTTP API: `GET /v1/models`, `POST /v1/chat/completions` (plain and SSE), health probes."""

from __future__ import annotations

import contextlib
import hmac
import logging
from collections.abc import AsyncIterator
from typing import Optional

import httpx2
from pydantic_ai.models.instrumented import InstrumentationSettings
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from agent_server import openai_api, runner
from agent_server.agents import RunDeps, definitions
from agent_server.config import Config
from agent_server.memory import Store
from agent_server.openai_api import ApiError, Completion
from agent_server.tracing import tracer_provider

log = logging.getLogger("agent_server")

# Open WebUI forwards these with ENABLE_FORWARD_USER_INFO_HEADERS=True (open-webui backend/open_webui/env.py:
# FORWARD_SESSION_INFO_HEADER_CHAT_ID, FORWARD_USER_INFO_HEADER_USER_ID defaults)
CHAT_ID_HEADER = "X-OpenWebUI-Chat-Id"
USER_ID_HEADER = "X-OpenWebUI-User-Id"
MAX_HEADER_ID = 200  # Langfuse drops session ids longer than 200 characters (langfuse.com docs, Sessions)
INTERNAL_ERROR = ApiError(500, "the agent server failed to complete the run; see its log", type="server_error",
                          code="internal_error")


def gateway_model(config: Config) -> OpenAIChatModel:
    """The agents' model: LiteLLM's OpenAI-compatible API with the server's own gateway key."""
    return OpenAIChatModel(config.model, provider=OpenAIProvider(base_url=f"{config.gateway_url}/v1",
                                                                 api_key=config.gateway_key))


def _header_id(request: Request, name: str) -> Optional[str]:
    value = (request.headers.get(name) or "").strip()
    if len(value) > MAX_HEADER_ID:
        raise ApiError(400, f"header {name} is longer than {MAX_HEADER_ID} characters")
    return value or None


def create_app(config: Config) -> Starlette:
    """The ASGI app; the database pool, HTTP client and tracer live for the app's lifespan."""
    provider = tracer_provider(config)
    instrumentation = InstrumentationSettings(tracer_provider=provider)
    model = gateway_model(config)
    agents = {name: (d, d.build(model, instrumentation)) for name, d in definitions().items()}
    store = Store(config.database_url)
    state: dict[str, httpx2.AsyncClient] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await store.open()
        state["http"] = httpx2.AsyncClient()
        try:
            yield
        finally:
            await state["http"].aclose()
            await store.close()
            provider.shutdown()  # flushes spans still queued for Langfuse

    def authorised(request: Request) -> None:
        scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), config.api_key.encode()):
            raise ApiError(401, "invalid API key: send Authorization: Bearer <the agent server's key>",
                           code="invalid_api_key")

    async def models(request: Request) -> Response:
        try:
            authorised(request)
        except ApiError as exc:
            return exc.response()
        return JSONResponse({"object": "list", "data": [
            {"id": name, "object": "model", "created": 0, "owned_by": "agent-server", "description": d.description}
            for name, (d, _) in agents.items()
        ]})

    async def chat_completions(request: Request) -> Response:
        try:
            authorised(request)
            body = openai_api.parse_request(await request.body())
            if body.model not in agents:
                raise ApiError(404, f"the model {body.model!r} does not exist: choose one of {sorted(agents)}",
                               param="model", code="model_not_found")
            prompt, history, instructions = openai_api.conversation(body)
            deps = RunDeps(config, store, state["http"], _header_id(request, CHAT_ID_HEADER),
                           _header_id(request, USER_ID_HEADER))
        except ApiError as exc:
            return exc.response()
        _, agent = agents[body.model]
        outcome = runner.RunOutcome()
        deltas = runner.run(agent, body.model, deps, prompt, history, instructions, config.history_runs, outcome)
        completion = Completion(body.model)
        if body.stream:
            include_usage = bool(body.stream_options and body.stream_options.include_usage)
            return StreamingResponse(_sse(deltas, completion, outcome, include_usage), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        try:
            async for _ in deltas:
                pass
        except ApiError as exc:
            return exc.response()
        except Exception:  # a bug or a lost database: an OpenAI-shaped 500, details in the log
            log.exception("agent run failed")
            return INTERNAL_ERROR.response()
        return JSONResponse(completion.message("".join(outcome.text),
                                               openai_api.usage(outcome.input_tokens, outcome.output_tokens)))

    async def health(request: Request) -> Response:
        return PlainTextResponse("ok")

    async def ready(request: Request) -> Response:
        try:
            await store.ping()
        except Exception as exc:  # any database failure means: not ready
            log.warning("not ready: %s", exc)
            return PlainTextResponse("database unavailable", status_code=503)
        return PlainTextResponse("ok")

    return Starlette(routes=[
        Route("/health", health), Route("/ready", ready),
        Route("/v1/models", models), Route("/v1/chat/completions", chat_completions, methods=["POST"]),
    ], lifespan=lifespan)


async def _sse(deltas: AsyncIterator[str], completion: Completion, outcome: runner.RunOutcome,
               include_usage: bool) -> AsyncIterator[str]:
    yield completion.chunk({"role": "assistant", "content": ""})
    try:
        async for text in deltas:
            yield completion.chunk({"content": text})
    except ApiError as exc:
        yield completion.error_chunk(exc)
        yield Completion.DONE
        return
    except Exception:  # headers are sent: the error goes in the stream, details in the log
        log.exception("agent run failed")
        yield completion.error_chunk(INTERNAL_ERROR)
        yield Completion.DONE
        return
    yield completion.chunk({}, "stop")
    if include_usage:
        yield completion.usage_chunk(openai_api.usage(outcome.input_tokens, outcome.output_tokens))
    yield Completion.DONE
