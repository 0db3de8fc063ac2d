"""The image's inputs: the runtime imports only what requirements.txt pins, and the Dockerfile
builds a slim, non-root image without the tests."""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]


def _runtime_imports() -> set[str]:
    names = set()
    for path in PACKAGE.rglob("*.py"):
        if "tests" in path.relative_to(PACKAGE).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"agent_server"}


def _pinned() -> dict[str, str]:
    pins = {}
    for line in (PACKAGE / "requirements.txt").read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)(\[[^\]]+\])?==(\S+)$", line.strip())
        if match:
            pins[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(3)
    return pins


def test_every_runtime_import_comes_from_a_pinned_requirement():
    distributions, pins = packages_distributions(), _pinned()
    imports = _runtime_imports()
    assert {"pydantic_ai", "starlette", "psycopg", "opentelemetry", "uvicorn"} <= imports
    for module in imports:
        owners = {re.sub(r"[-_.]+", "-", d).lower() for d in distributions.get(module, [])}
        assert owners & pins.keys(), f"{module} (from {owners or 'nowhere'}) is not pinned in requirements.txt"


def test_requirements_pin_every_line_exactly():
    for line in (PACKAGE / "requirements.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            assert re.match(r"^[A-Za-z0-9_.-]+(\[[^\]]+\])?==\S+$", line), line


def test_dockerfile_builds_a_slim_non_root_image_without_tests():
    dockerfile = (PACKAGE / "Dockerfile").read_text()
    bases = re.findall(r"^FROM (\S+)", dockerfile, re.M)
    assert bases and all(re.fullmatch(r"python:3\.11\.\d+-slim-\w+", b) for b in bases)
    assert re.search(r"^USER 10001:10001$", dockerfile, re.M)
    assert "-r /tmp/requirements.txt" in dockerfile and "requirements-test" not in dockerfile.split("RUN rm")[0]
    assert "PYTHONDONTWRITEBYTECODE=1" in dockerfile  # nothing written next to the code: read-only root works
    assert "tests/" in (PACKAGE / ".dockerignore").read_text().split()
