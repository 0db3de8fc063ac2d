"""Processes the e2e run starts (agent server, Open WebUI): own session, log file, readiness polled
later (they start side by side), always stopped by their process group; a context manager entered
in a thread (PostgreSQL's start); the phase clock the run prints."""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ContextManager

import httpx

PASS_THROUGH = ("PATH", "LANG", "LC_ALL", "TMPDIR", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")


def service_env(env: Mapping[str, str]) -> dict[str, str]:
    """`env` plus PATH and locale from here, and no proxy for loopback."""
    return ({k: os.environ[k] for k in PASS_THROUGH if k in os.environ} | dict(env)
            | {"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"})


class Service:
    """A started process and the URL that answers 200 once it is ready."""

    def __init__(self, name: str, process: subprocess.Popen, ready_url: str, log: Path) -> None:
        self.name, self.process, self.ready_url, self.log = name, process, ready_url, log

    def wait_ready(self, timeout: float) -> None:
        """Poll `ready_url` until it answers 200; raise if the process exits or `timeout` passes."""
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{_tail(self.log)}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.ready_url, timeout=3).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} not ready after {timeout:.0f}s:\n{_tail(self.log)}")
            time.sleep(0.25)


@contextlib.contextmanager
def start_service(name: str, command: Sequence[str], env: Mapping[str, str], ready_url: str, log: Path, *,
                  cwd: Path) -> Iterator[Service]:
    """Start `command` with exactly `env` (plus PATH and locale) without waiting for it; always stop it."""
    with open(log, "ab") as out:
        process = subprocess.Popen(list(command), env=service_env(env), cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        yield Service(name, process, ready_url, log)
    finally:
        stop(process)


@contextlib.contextmanager
def in_background(manager: ContextManager[Any]) -> Iterator[concurrent.futures.Future]:
    """Enter `manager` in a thread while the caller goes on; yields the Future of what it yields.
    On the way out (failure and Ctrl-C included) waits for the entry to end, then exits it."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        future = pool.submit(manager.__enter__)
        try:
            yield future
        finally:
            if future.exception() is None:  # blocks until the entry ended; nothing to exit if it failed
                manager.__exit__(None, None, None)


class Clock:
    """Prints how long each phase of the run took, and since the start."""

    def __init__(self) -> None:
        self.start = self.last = time.monotonic()

    def lap(self, what: str) -> None:
        now = time.monotonic()
        print(f"e2e: [{now - self.start:5.1f}s] {what} (+{now - self.last:.1f}s)", flush=True)
        self.last = now


def _tail(log: Path, chars: int = 6000) -> str:
    return log.read_text(errors="replace")[-chars:] if log.exists() else ""


def stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)  # its own session: the group is this service and its children
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
