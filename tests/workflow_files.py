"""The GitHub Actions workflows under test and how to read them, shared by the workflow tests.

Where the workflow files are (every ``*.yml``/``*.yaml`` in .github/workflows, and the four
that the behavioural checks name), and readers of the parsed YAML: the triggers (PyYAML reads
the bare key ``on`` as True), the granted permission values, and the steps of every job.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS_DIR = REPO_ROOT / ".github" / "workflows"
WORKFLOW_FILES = sorted(
    p for p in WORKFLOWS_DIR.glob("*") if p.suffix in (".yml", ".yaml")
)

PR_WORKFLOW = WORKFLOWS_DIR / "pr.yml"
PR_COMMENT_WORKFLOW = WORKFLOWS_DIR / "pr-comment.yml"
PREVIEW_WORKFLOW = WORKFLOWS_DIR / "preview.yml"
DEPLOY_WORKFLOW = WORKFLOWS_DIR / "deploy.yml"


def load_workflow(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    assert isinstance(data, dict), f"{path.name}: not a YAML mapping"
    return data


def triggers_of(workflow: dict[str, Any]) -> dict[str, Any]:
    # YAML 1.1 (PyYAML) reads the bare key `on` as boolean True.
    on = workflow.get("on", workflow.get(True))
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return {name: None for name in on}
    assert isinstance(on, dict), f"unexpected 'on' value: {on!r}"
    return on


def permission_values(perms: Any) -> Iterator[str]:
    """Yield each granted scope value ('read', 'write', 'none', or a shorthand)."""
    if perms is None:
        return
    if isinstance(perms, str):  # read-all / write-all shorthand
        yield perms
        return
    assert isinstance(perms, dict), f"unexpected permissions: {perms!r}"
    yield from (str(v) for v in perms.values())


def job_steps(workflow: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for job_id, job in workflow.get("jobs", {}).items():
        for step in job.get("steps", []) or []:
            yield job_id, step
