"""Shared fixtures: one offline run per stack file per test session (and the dev run's policy report),
running a stack with overrides, the dev stack's gateway running on loopback, and a guard that fails
any network access."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any, Callable

import pytest

from tools.offline.engine import PROJECT_DIR, run_stack
from tools.offline.records import StackRun

# Helper modules of the tests: their asserts get pytest's introspection too (before anything imports them)
pytest.register_assert_rewrite("policy_cases", "preflight_cases", "workflow_files", "tests.gateway.client")

STACKS = ("dev", "prod")


@pytest.fixture(scope="session")
def project_dir() -> Path:
    return PROJECT_DIR


@pytest.fixture(scope="session")
def stack_runs() -> dict[str, StackRun]:
    """The real program run offline for every stack file in the repo (mocks installed here)."""
    return {stack: run_stack(stack) for stack in STACKS}


@pytest.fixture(scope="session", params=STACKS)
def stack_run(request, stack_runs) -> StackRun:
    """Each stack file's run, one test instance per stack."""
    return stack_runs[request.param]


@pytest.fixture(scope="session")
def dev(stack_runs) -> StackRun:
    """The dev stack's run: the policy rule tests (tests/policy_cases.py) change one record of it."""
    return stack_runs["dev"]


@pytest.fixture(scope="session")
def dev_reported(dev) -> set[tuple[str, str]]:
    """(policy, urn) of every violation the policy pack reports on the dev run, whatever its level."""
    from policy_cases import reported  # noqa: PLC0415 - only the policy tests need the pack loaded

    return reported(dev.resources)


@pytest.fixture
def run_with() -> Callable[..., StackRun]:
    """Run a stack with config overrides: `run_with("dev", {"genai-platform:neuron": {...}})`."""

    def _run(stack: str, overrides: dict[str, Any]) -> StackRun:
        return run_stack(stack, overrides=overrides)

    return _run


@pytest.fixture(scope="session")
def dev_gateway(stack_runs, tmp_path_factory):
    """The dev stack's rendered gateway running for real on loopback (``tests/gateway/loopback.py``):
    one LiteLLM proxy with its stand-in backends and Redis, shared by the rendered-gateway modules.
    Tests that stop a backend start it again."""
    from tests.gateway import loopback as lb  # noqa: PLC0415 - only the gateway tests need the harness
    from tests.gateway.client import require_litellm_runs  # noqa: PLC0415
    from tests.gateway.redis_server import RedisUnavailable  # noqa: PLC0415

    require_litellm_runs()
    try:
        with lb.run_gateway(lb.RenderedGateway.from_run(stack_runs["dev"]), tmp_path_factory.mktemp("gateway-rendered")) as run:
            yield run
    except RedisUnavailable as exc:
        pytest.fail(str(exc))


@pytest.fixture
def no_network(monkeypatch) -> None:
    """Fail any attempt to resolve a name or open an IP connection (Unix sockets still work)."""

    def refuse(*args, **kwargs):
        raise RuntimeError(f"network access attempted: {args!r}")

    real_connect = socket.socket.connect

    def connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            refuse(address)
        return real_connect(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect)
