"""Debian's `prometheus` package on this machine: promtool and the server binary (never skipped:
`make test` installs the package first, see the Makefile's system-deps target)."""

from __future__ import annotations

import shutil
from typing import Any

import pytest

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
