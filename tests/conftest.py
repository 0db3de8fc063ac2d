"""Shared fixtures: one offline run per stack file per test session."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest

from tools.offline.engine import PROJECT_DIR, run_stack
from tools.offline.records import StackRun

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


@pytest.fixture
def run_with() -> Callable[..., StackRun]:
    """Run a stack with config overrides: `run_with("dev", {"genai-platform:neuron": {...}})`."""

    def _run(stack: str, overrides: dict[str, Any]) -> StackRun:
        return run_stack(stack, overrides=overrides)

    return _run
