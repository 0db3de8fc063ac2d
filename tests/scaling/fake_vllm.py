"""A stand-in for `vllm serve` on Neuron: compiles into $NEURON_COMPILED_ARTIFACTS unless a
compiled model is there, then answers GET /v1/models for a moment and exits.

    python3 fake_vllm.py <port> <log file> <compile seconds> [exit code before ready]

Each start appends `compile|load <artifacts dir> <model bytes seen>` to the log (a whole model: 1000).
"""

from __future__ import annotations

import http.server
import os
import sys
import threading
import time

port, log, seconds = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
fail = int(sys.argv[4]) if len(sys.argv) > 4 else None
artifacts = os.environ["NEURON_COMPILED_ARTIFACTS"]
model = os.path.join(artifacts, "model.neff")


def record(event: str, size: int = 0) -> None:
    with open(log, "a", encoding="utf-8") as out:  # O_APPEND: one line per write
        out.write(f"{event} {artifacts} {size}\n")


if os.path.isfile(model):
    record("load", os.path.getsize(model))
else:
    record("compile")
    os.makedirs(artifacts, exist_ok=True)
    with open(model, "w", encoding="utf-8") as out:
        for _ in range(10):  # written slowly: a reader in the meantime would see half a model
            out.write("x" * 100)
            out.flush()
            time.sleep(seconds / 10)
    if fail is not None:
        sys.exit(fail)


class Models(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        self.send_response(200 if self.path == "/v1/models" else 404)
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", port), Models)
threading.Thread(target=server.serve_forever, daemon=True).start()
time.sleep(1.5)
server.shutdown()
