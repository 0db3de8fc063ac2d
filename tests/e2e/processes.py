"""Processes the e2e run starts (agent server, Open WebUI): own session, log file, readiness poll,
always stopped by their process group."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import httpx

PASS_THROUGH = ("PATH", "LANG", "LC_ALL", "TMPDIR", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")


def service_env(env: Mapping[str, str]) -> dict[str, str]:
    """`env` plus PATH and locale from here, and no proxy for loopback."""
    return ({k: os.environ[k] for k in PASS_THROUGH if k in os.environ} | dict(env)
            | {"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"})


@contextlib.contextmanager
def service(name: str, command: Sequence[str], env: Mapping[str, str], ready_url: str, log: Path, *,
            cwd: Path, timeout: float = 180) -> Iterator[subprocess.Popen]:
    """Start `command` with exactly `env` (plus PATH and locale), wait for `ready_url` to answer 200."""
    full_env = service_env(env)
    with open(log, "ab") as out:
        process = subprocess.Popen(list(command), env=full_env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{_tail(log)}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(ready_url, timeout=3).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} not ready after {timeout:.0f}s:\n{_tail(log)}")
            time.sleep(0.5)
        yield process
    finally:
        _stop(process)


def _tail(log: Path, chars: int = 6000) -> str:
    return log.read_text(errors="replace")[-chars:] if log.exists() else ""


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)  # its own session: the group is this service and its children
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
