"""Run the real LiteLLM proxy (``litellm --config``) on loopback as a subprocess.

``run_proxy(config, env)`` writes ``config`` as ``config.yaml`` into a temporary directory, starts
``<bin dir of this interpreter>/litellm --config <file> --port <free port> --host 127.0.0.1``,
waits for ``GET /health/readiness`` to answer 200 and yields the base URL; the process (its whole
process group) is always terminated on exit, including when the test body fails.

Offline settings the harness adds (a test's own ``env``/config values win):

- env ``LITELLM_LOCAL_MODEL_COST_MAP=True``: use the cost map bundled in the wheel instead of
  fetching it (``litellm/litellm_core_utils/get_model_cost_map.py``).
- ``litellm_settings.disable_hf_tokenizer_download: true``: there is no env var for it; the proxy
  ``setattr``s every ``litellm_settings`` key onto the ``litellm`` module and
  ``litellm.utils._select_tokenizer_helper`` then uses the bundled tiktoken tokenizer instead of
  downloading one from the Hugging Face hub.  ``HF_HUB_OFFLINE=1`` as a second guard.
- Telemetry: this LiteLLM sends none; its ``--telemetry`` flag is a hidden deprecated no-op.
- ``AWS_EC2_METADATA_DISABLED=true``: botocore must not probe the instance-metadata address.
- ``NO_PROXY``/``no_proxy`` for loopback, so a machine-wide HTTP proxy never sees stub traffic.
- ``OTEL_BSP_SCHEDULE_DELAY=200`` (ms): the ``langfuse_otel`` callback exports through an
  OpenTelemetry ``BatchSpanProcessor`` (default delay 5 s); a short delay keeps tests fast.

Variables that would leak the developer's real setup into the proxy (``LITELLM_*``,
``LANGFUSE_*``, ``AWS_*``, ``OTEL_*``, ``REDIS_*``, ``DATABASE_URL``, provider API keys, proxies)
are dropped from the inherited environment before ``env`` is applied.

No ``database_url``: LiteLLM's DB mode needs Prisma query engines, which are downloaded at run
time and cannot be here, so the proxy runs with the master key only (no virtual keys / spend DB).
"""

from __future__ import annotations

import contextlib
import copy
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

__all__ = ["ProxyURL", "ProxyStartError", "litellm_executable", "run_proxy"]

OFFLINE_ENV: dict[str, str] = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "NO_PROXY": "127.0.0.1,localhost,::1",
    "no_proxy": "127.0.0.1,localhost,::1",
    "OTEL_BSP_SCHEDULE_DELAY": "200",
    "PYTHONUNBUFFERED": "1",
}

OFFLINE_LITELLM_SETTINGS: dict[str, Any] = {"disable_hf_tokenizer_download": True}

_DROPPED_PREFIXES = (
    "LITELLM_",
    "LANGFUSE_",
    "AWS_",
    "OTEL_",
    "REDIS_",
    "OPENAI_",
    "ANTHROPIC_",
    "HOSTED_VLLM_",
    "PROMETHEUS_",
)
_DROPPED_NAMES = {
    "DATABASE_URL",
    "DIRECT_URL",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
}


class ProxyStartError(RuntimeError):
    """The proxy exited or did not become ready; the message carries its output."""


class ProxyURL(str):
    """The proxy's base URL (``http://127.0.0.1:<port>``), also carrying the run's files."""

    port: int
    config_path: Path
    log_path: Path
    process: subprocess.Popen

    def __new__(cls, url: str, **attrs: Any) -> ProxyURL:
        obj = super().__new__(cls, url)
        for key, value in attrs.items():
            setattr(obj, key, value)
        return obj

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def litellm_executable() -> Path:
    """The ``litellm`` console script: ``$LITELLM_EXECUTABLE`` if set (the agent server's tests run in
    their own venv and use the project venv's proxy), else the one next to the running interpreter."""
    configured = os.environ.get("LITELLM_EXECUTABLE")
    if configured:
        if not os.access(configured, os.X_OK):
            raise ProxyStartError(f"LITELLM_EXECUTABLE={configured} is not an executable file")
        return Path(configured)
    candidate = Path(sys.executable).parent / "litellm"
    if candidate.exists():
        return candidate
    found = shutil.which("litellm")
    if found:
        return Path(found)
    raise ProxyStartError(f"no litellm console script next to {sys.executable}: pip install 'litellm[proxy]'")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _proxy_env(env: Mapping[str, str]) -> dict[str, str]:
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(_DROPPED_PREFIXES) and key not in _DROPPED_NAMES
    }
    base.update(OFFLINE_ENV)
    base.update({key: str(value) for key, value in env.items()})
    return base


def _with_offline_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    rendered = copy.deepcopy(dict(config))
    settings = dict(rendered.get("litellm_settings") or {})
    for key, value in OFFLINE_LITELLM_SETTINGS.items():
        settings.setdefault(key, value)
    rendered["litellm_settings"] = settings
    return rendered


def _tail(path: Path, limit: int = 20000) -> str:
    text = path.read_text(errors="replace") if path.exists() else "<no output>"
    return text[-limit:]


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health/readiness", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _terminate(process: subprocess.Popen, grace: float = 15.0) -> None:
    if process.poll() is not None:
        return
    # The proxy runs in its own session (start_new_session=True): its group id is its pid, and the
    # group holds only what it started.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@contextlib.contextmanager
def run_proxy(
    config: Mapping[str, Any],
    env: Mapping[str, str] | None = None,
    *,
    startup_timeout: float = 60.0,
    workdir: str | os.PathLike[str] | None = None,
    extra_args: tuple[str, ...] = (),
    port: int | None = None,
) -> Iterator[ProxyURL]:
    """Start the LiteLLM proxy with ``config`` and ``env``; yield its base URL; always stop it.

    ``workdir`` (default: a fresh temporary directory, removed afterwards) receives
    ``config.yaml`` and ``proxy.log`` (stdout+stderr).  Pass a directory such as pytest's
    ``tmp_path_factory.mktemp(...)`` to keep the log for debugging. ``port``: a port chosen by the
    caller (default: a free one), so other processes can be given the URL before the proxy is up.
    """
    with contextlib.ExitStack() as stack:
        if workdir is None:
            workdir = stack.enter_context(tempfile.TemporaryDirectory(prefix="litellm-proxy-"))
        directory = Path(workdir)
        directory.mkdir(parents=True, exist_ok=True)
        config_path = directory / "config.yaml"
        config_path.write_text(yaml.safe_dump(_with_offline_settings(config), sort_keys=False))
        log_path = directory / "proxy.log"
        port = port or _free_port()
        url = f"http://127.0.0.1:{port}"
        command = [
            str(litellm_executable()),
            "--config",
            str(config_path),
            "--port",
            str(port),
            "--host",
            "127.0.0.1",
            *extra_args,
        ]
        log_file = stack.enter_context(open(log_path, "wb"))
        process = subprocess.Popen(
            command,
            cwd=directory,
            env=_proxy_env(env or {}),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            started = time.monotonic()
            while not _ready(url):
                if process.poll() is not None:
                    raise ProxyStartError(
                        f"litellm proxy exited with code {process.returncode} before it was ready "
                        f"({' '.join(command)}); output:\n{_tail(log_path)}"
                    )
                if time.monotonic() - started > startup_timeout:
                    raise ProxyStartError(
                        f"litellm proxy not ready at {url}/health/readiness after {startup_timeout:.0f}s "
                        f"({' '.join(command)}); output:\n{_tail(log_path)}"
                    )
                time.sleep(0.25)
            yield ProxyURL(url, port=port, config_path=config_path, log_path=log_path, process=process)
        finally:
            _terminate(process)
