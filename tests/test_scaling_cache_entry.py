"""The compile-once entrypoint on the shared cache (components/apps/files/neuron_cache_entry.py),
run for real: several replicas start on one empty cache, one compiles, the others load what it
published; a replica that fails or dies while compiling publishes nothing."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ENTRY = Path(__file__).parents[1] / "components" / "apps" / "files" / "neuron_cache_entry.py"
FAKE = Path(__file__).parent / "scaling" / "fake_vllm.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(cache: Path, log: Path, seconds: float = 1.0, fail: int | None = None) -> subprocess.Popen:
    port = free_port()
    server = [sys.executable, str(FAKE), str(port), str(log), str(seconds), *([str(fail)] if fail is not None else [])]
    return subprocess.Popen(
        [sys.executable, str(ENTRY), str(cache / "neuron-compiled" / "m"), f"http://127.0.0.1:{port}/v1/models", "--",
         *server],
        env={**os.environ, "CACHE_ENTRY_POLL_SECONDS": "0.05"},
    )


def events(log: Path) -> list[tuple[str, str, int]]:
    """(compile|load, artifacts dir, model bytes seen) per server start."""
    found = []
    for line in (log.read_text().splitlines() if log.exists() else []):
        what, where, size = line.split(" ")
        found.append((what, where, int(size)))
    return found


def test_replicas_starting_together_compile_once_and_load_the_published_model(tmp_path):
    log = tmp_path / "events"
    replicas = [start(tmp_path, log) for _ in range(3)]
    assert [r.wait(timeout=60) for r in replicas] == [0, 0, 0]
    published = tmp_path / "neuron-compiled" / "m"
    found = events(log)
    compiles = [where for what, where, _ in found if what == "compile"]
    loads = [where for what, where, _ in found if what == "load"]
    assert all(size == 1000 for what, _, size in found if what == "load")  # never half a model
    assert len(compiles) == 1 and len(loads) == 2
    # it compiled in a private directory; the others loaded the published one, complete
    assert compiles[0] != str(published) and ".tmp-" in compiles[0]
    assert loads == [str(published)] * 2
    assert (published / "model.neff").read_text() == "x" * 1000
    assert (published / ".complete").is_file()
    assert not [p for p in published.parent.iterdir() if ".tmp-" in p.name]


def test_a_replica_that_fails_compiling_publishes_nothing_and_the_next_one_compiles(tmp_path):
    log = tmp_path / "events"
    assert start(tmp_path, log, fail=3).wait(timeout=60) == 3
    published = tmp_path / "neuron-compiled" / "m"
    assert not published.exists()
    assert not [p for p in published.parent.iterdir() if ".tmp-" in p.name]
    assert start(tmp_path, log).wait(timeout=60) == 0
    assert [what for what, _, _ in events(log)] == ["compile", "compile"]
    assert (published / ".complete").is_file()


def test_a_dead_replicas_half_written_directory_is_never_loaded(tmp_path):
    """A replica killed mid-compile leaves its private directory (its lock goes with it): the next
    lock holder removes it and compiles; nothing reads the half-written model."""
    log = tmp_path / "events"
    root = tmp_path / "neuron-compiled"
    root.mkdir()
    stale = root / "m.tmp-gone-1"
    stale.mkdir()
    (stale / "model.neff").write_text("x" * 10)
    assert start(tmp_path, log).wait(timeout=60) == 0
    assert not stale.exists()
    assert [what for what, _, _ in events(log)] == ["compile"]
    assert (root / "m" / "model.neff").read_text() == "x" * 1000


def test_without_the_entrypoint_a_second_replica_loads_half_a_model(tmp_path):
    """The hazard the entrypoint removes: two servers on one NEURON_COMPILED_ARTIFACTS directory;
    the second starts while the first is still writing and takes the partial files for a model."""
    log, shared = tmp_path / "events", tmp_path / "neuron-compiled" / "m"
    env = {**os.environ, "NEURON_COMPILED_ARTIFACTS": str(shared)}
    first = subprocess.Popen([sys.executable, str(FAKE), str(free_port()), str(log), "2.0"], env=env)
    time.sleep(0.8)
    second = subprocess.Popen([sys.executable, str(FAKE), str(free_port()), str(log), "2.0"], env=env)
    assert [first.wait(timeout=60), second.wait(timeout=60)] == [0, 0]
    (_, _, _), (what, _, size) = events(log)
    assert what == "load" and size < 1000
