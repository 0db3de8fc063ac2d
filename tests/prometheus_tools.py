"""Debian's `prometheus` package on this machine: promtool and the server binary (never skipped:
`make test` installs the package first, see the Makefile's system-deps target)."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tools.offline.records import StackRun

PROMETHEUS_RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"


def binary(name: str) -> str:
    """Path of `promtool` / `prometheus`, or a failing test that says how to install it."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: run `make test` (installs Debian's prometheus package) "
                    "or `apt-get install -y --no-install-recommends prometheus`")
    return path


def rendered_rules(run: StackRun) -> dict[str, Any]:
    """The rule groups of the stack's one PrometheusRule, as the program renders them."""
    [record] = run.of_type(PROMETHEUS_RULE)
    return record.inputs["spec"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def run_prometheus(config: dict[str, Any], rules: dict[str, Any], workdir: Path) -> Iterator[str]:
    """A real Prometheus server on a loopback port with `config` (+ `rules` as its rule file);
    yields its base URL. Started here, stopped here: never the Debian service."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "rules.yaml").write_text(yaml.safe_dump(rules, sort_keys=False))
    (workdir / "prometheus.yaml").write_text(yaml.safe_dump({**config, "rule_files": ["rules.yaml"]}, sort_keys=False))
    port = free_port()
    log = (workdir / "prometheus.log").open("w")
    process = subprocess.Popen(
        [binary("prometheus"), f"--config.file={workdir / 'prometheus.yaml'}",
         f"--storage.tsdb.path={workdir / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
        stdout=log, stderr=subprocess.STDOUT, cwd=workdir,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError("prometheus exited: " + (workdir / "prometheus.log").read_text()[-2000:])
            try:
                if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("prometheus did not become ready")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def query(url: str, expr: str) -> list[dict[str, Any]]:
    """An instant query's result vector."""
    response = httpx.get(f"{url}/api/v1/query", params={"query": expr}, timeout=10)
    body = response.json()
    assert body.get("status") == "success", (expr, body)
    return body["data"]["result"]


def targets_health(url: str) -> dict[str, str]:
    """job -> health of its (one) active target."""
    body = httpx.get(f"{url}/api/v1/targets", timeout=10).json()
    return {t["labels"]["job"]: t["health"] for t in body["data"]["activeTargets"]}
