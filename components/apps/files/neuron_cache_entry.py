"""Model-server entrypoint on the shared cache: the first replica compiles and publishes, the
others load what it published. Standard library only (runs inside the vLLM Neuron image).

    python3 neuron_cache_entry.py <published dir> <ready url> -- vllm serve ...

- <published dir> holding the `.complete` marker: run the server on it (NEURON_COMPILED_ARTIFACTS).
- Otherwise take an exclusive POSIX lock on `<dir>.lock` (NFSv4 byte-range lock on EFS; waits while
  another replica compiles), look again, and if still unpublished compile into a private
  `<dir>.tmp-<host>-<pid>` directory; once the server answers <ready url>, write the marker and
  rename the directory to <published dir> (atomic on one file system), then release the lock.
A replica that dies while compiling releases its lock with its NFS lease; its temporary directory
is removed by the next lock holder. Readers never see a half-written <published dir>.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

MARKER = ".complete"
POLL_SECONDS = float(os.environ.get("CACHE_ENTRY_POLL_SECONDS", "5"))


def published(path: str) -> bool:
    """The directory was published whole (the marker is written before the rename)."""
    return os.path.isfile(os.path.join(path, MARKER))


def ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback URL from argv
            return response.status == 200
    except OSError:
        return False


def run(cmd: list[str], artifacts: str) -> subprocess.Popen:
    """Start the server with its compiled-artifact directory; SIGTERM/SIGINT go on to it."""
    child = subprocess.Popen(cmd, env={**os.environ, "NEURON_COMPILED_ARTIFACTS": artifacts})
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _frame: child.send_signal(signum))
    return child


def remove_stale(target: str) -> None:
    """Temporary directories of replicas that died compiling (only the lock holder calls this)."""
    parent, base = os.path.split(target)
    for entry in os.listdir(parent):
        if entry.startswith(base + ".tmp-"):
            shutil.rmtree(os.path.join(parent, entry), ignore_errors=True)


def compile_and_publish(target: str, url: str, cmd: list[str]) -> subprocess.Popen:
    """Holding the lock: serve from a private directory, publish it once the server is ready.
    Returns the server process (exited if it failed before it was ready: nothing is published)."""
    remove_stale(target)
    private = f"{target}.tmp-{socket.gethostname()}-{os.getpid()}"
    os.makedirs(private)
    child = run(cmd, private)
    while child.poll() is None and not ready(url):
        time.sleep(POLL_SECONDS)
    if child.poll() is not None:
        shutil.rmtree(private, ignore_errors=True)
        return child
    with open(os.path.join(private, MARKER), "w", encoding="utf-8") as marker:
        marker.write(f"{socket.gethostname()} {time.time():.0f}\n")
        marker.flush()
        os.fsync(marker.fileno())
    if published(target):  # cannot happen under the lock; never overwrite a published directory
        shutil.rmtree(private, ignore_errors=True)
    else:
        os.rename(private, target)
    return child


def main(argv: list[str]) -> int:
    if len(argv) < 4 or argv[2] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    target, url, cmd = os.path.abspath(argv[0]), argv[1], argv[3:]
    os.makedirs(os.path.dirname(target), exist_ok=True)
    if not published(target):
        lock = open(target + ".lock", "a+", encoding="utf-8")  # noqa: SIM115 - released before the wait
        fcntl.lockf(lock, fcntl.LOCK_EX)  # blocks while another replica compiles
        try:
            child = None if published(target) else compile_and_publish(target, url, cmd)
        finally:
            fcntl.lockf(lock, fcntl.LOCK_UN)
            lock.close()
        if child is not None:
            return child.wait()
    return run(cmd, target).wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
