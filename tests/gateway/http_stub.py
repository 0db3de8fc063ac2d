"""The shared base of the gateway's stand-in backends: a threaded loopback HTTP server.

Each stub is a ``http.server.ThreadingHTTPServer`` on a free loopback port, run in a daemon
thread.  Standard library only, so there is no event loop to share with the test and nothing that
can leak past ``stop()``.

Every response is sent with ``Connection: close`` (HTTP/1.0 semantics): no client keeps a pooled
connection to a stub, so after ``stop()`` the next request really gets *connection refused*
(a keep-alive connection would otherwise still reach a handler thread of a "stopped" server).
``start()`` binds the same port again, so a config rendered once stays valid across restarts.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["LOOPBACK", "RecordedRequest", "Response", "StubServer", "count_tokens", "wait_until"]

LOOPBACK = "127.0.0.1"


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05, message: str = "") -> Any:
    """Poll ``predicate`` until it returns a truthy value; return it, or raise ``TimeoutError``."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise TimeoutError(message or f"condition not met within {timeout:.1f}s")
        time.sleep(interval)


@dataclass(frozen=True)
class RecordedRequest:
    """One request as a stub received it."""

    method: str
    path: str  # raw request path, without the query string
    query: str
    headers: dict[str, str]  # header names lower-cased
    body: bytes
    json: Any = None  # parsed body when it was JSON, else None
    received_at: float = field(default_factory=time.time)

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)


@dataclass
class Response:
    """What a stub's route returns: a plain body, or ``chunks`` streamed one write at a time."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    chunks: Iterable[bytes] | None = None

    @classmethod
    def json(cls, payload: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
        return cls(status=status, body=json.dumps(payload).encode(), headers=dict(headers or {}))


class _QuietThreadingHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:  # noqa: ARG002
        # A client that hangs up mid-stream is normal here (e.g. the proxy timing out); keep the
        # pytest output clean instead of printing a traceback per dropped connection.
        return


class StubServer:
    """Base class: a stoppable loopback HTTP server that records every request it gets."""

    name = "stub"

    def __init__(self, port: int = 0) -> None:
        self._port = port
        self._server: _QuietThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._forced_failures: list[tuple[int, bytes]] = []

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> StubServer:
        if self._server is not None:
            return self
        server = _QuietThreadingHTTPServer((LOOPBACK, self._port), self._make_handler())
        self._port = server.server_address[1]  # keep the port for a later restart
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"{self.name}-{self._port}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close the listening socket: new connections are refused until ``start()``."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    @property
    def running(self) -> bool:
        return self._server is not None

    def __enter__(self) -> StubServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if not self._port:
            raise RuntimeError(f"{self.name} has not been started yet")
        return self._port

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:41234`` (no trailing slash)."""
        return f"http://{LOOPBACK}:{self.port}"

    # -- recording ---------------------------------------------------------------------------
    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def call_count(self) -> int:
        """Number of requests received (every route, including ones answered with an error)."""
        with self._lock:
            return len(self._requests)

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._forced_failures.clear()

    def fail_next(self, status: int = 500, times: int = 1, body: bytes | None = None) -> None:
        """Answer the next ``times`` requests with ``status`` (they are still recorded)."""
        payload = (
            body if body is not None else json.dumps({"error": {"message": f"forced {status} by {self.name}"}}).encode()
        )
        with self._lock:
            self._forced_failures.extend([(status, payload)] * times)

    def _record(self, request: RecordedRequest) -> tuple[int, bytes] | None:
        with self._lock:
            self._requests.append(request)
            return self._forced_failures.pop(0) if self._forced_failures else None

    # -- routing (subclasses) ------------------------------------------------------------------
    def route(self, request: RecordedRequest) -> Response:  # pragma: no cover - overridden
        return Response.json({"error": "not found"}, status=404)

    def _make_handler(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"
            server_version = f"{stub.name}-stub"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

            def _read_body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    data = bytearray()
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return bytes(data)
                        data += self.rfile.read(size)
                        self.rfile.readline()
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _handle(self) -> None:
                raw_path, _, query = self.path.partition("?")
                body = self._read_body()
                headers = {k.lower(): v for k, v in self.headers.items()}
                parsed: Any = None
                if body and "json" in headers.get("content-type", "json"):
                    try:
                        parsed = json.loads(body)
                    except ValueError:
                        parsed = None
                request = RecordedRequest(self.command, raw_path, query, headers, body, parsed)
                forced = stub._record(request)
                if forced is not None:
                    response = Response(status=forced[0], body=forced[1])
                else:
                    try:
                        response = stub.route(request)
                    except Exception as exc:  # surface stub bugs as a 500 the test can see
                        response = Response.json({"error": {"message": f"{stub.name} stub error: {exc!r}"}}, status=500)
                self._send(response)

            def _send(self, response: Response) -> None:
                self.send_response(response.status)
                self.send_header("Content-Type", response.content_type)
                self.send_header("Connection", "close")
                for key, value in response.headers.items():
                    self.send_header(key, value)
                if response.chunks is None:
                    self.send_header("Content-Length", str(len(response.body)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(response.body)
                    return
                self.end_headers()  # close-delimited body: ends when the connection closes
                for chunk in response.chunks:
                    self.wfile.write(chunk)
                    self.wfile.flush()

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        return Handler


def count_tokens(text: str) -> int:
    """Deterministic stand-in for a tokenizer: one token per whitespace-separated word (at least 1)."""
    return max(1, len(text.split()))
