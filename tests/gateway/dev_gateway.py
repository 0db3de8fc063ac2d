"""What the tests of the dev stack's rendered gateway share (``tests/test_gateway_rendered.py``,
``tests/test_gateway_observability.py``): their fixtures, and expectations read from the settings.

The proxy itself is ``tests/conftest.py``'s session fixture ``dev_gateway``: one running gateway
for both modules. Import the fixtures here into a test module to use them.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from components.apps.gateway_config import USER_HEADER
from components.settings.loading import load_stack_settings
from tests.gateway import loopback as lb
from tools.offline.engine import PROJECT_DIR

STACK = "dev"
USER_ID = "owui-user-rendered"
"""The Open WebUI user the client sends as (``USER_HEADER``)."""


@pytest.fixture(scope="module")
def settings():
    return load_stack_settings(STACK, PROJECT_DIR)


@pytest.fixture
def gateway(dev_gateway) -> lb.GatewayRun:
    return dev_gateway


@pytest.fixture
def client(gateway) -> Iterator[httpx.Client]:
    """Authorised with the master key, sending as Open WebUI user ``USER_ID``."""
    headers = {"Authorization": f"Bearer {gateway.master_key}", USER_HEADER: USER_ID}
    with httpx.Client(base_url=gateway.url, headers=headers, timeout=60) as c:
        yield c


def all_models(settings) -> list[str]:
    return [m.name for m in settings.bedrock_models] + [m.name for m in settings.models]


def bedrock_id(settings, name: str) -> str:
    return next(m.model_id for m in settings.bedrock_models if m.name == name)


def is_vllm(settings, name: str) -> bool:
    return any(m.name == name for m in settings.models)


def stub_for(gateway: lb.GatewayRun, settings, model: str):
    return gateway.vllm[model] if is_vllm(settings, model) else gateway.bedrock
