"""The SDK modules the program uses, read from its source, and loading them before a run.

The offline engine loads this list before it freezes the heap for an in-process run with the
cyclic collector on (see `tools.offline.engine`). The benchmark's baseline reads what to import
from the preview process itself (`tools.bench.program_imports`).
"""

from __future__ import annotations

import ast
import functools
import importlib
import importlib.util
from pathlib import Path
from typing import Iterable

SDK_PACKAGES = ("pulumi", "pulumi_aws", "pulumi_eks", "pulumi_kubernetes", "pulumi_random")


def program_files(project_dir: Path) -> list[Path]:
    """`__main__.py` and every module under `components/`."""
    return [project_dir / "__main__.py", *sorted((project_dir / "components").rglob("*.py"))]


@functools.lru_cache(maxsize=None)
def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _dotted(node: ast.AST) -> list[str]:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return [node.id, *reversed(parts)] if isinstance(node, ast.Name) else []


def sdk_modules(sources: Iterable[str]) -> list[str]:
    """The SDK modules the given sources use: `import x`, `from x import submodule`, and
    attribute chains on an imported SDK alias (`k8s.apps.v1.Deployment` -> pulumi_kubernetes.apps.v1)."""
    used: set[str] = set()
    for source in sources:
        tree = ast.parse(source)
        aliases: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] in SDK_PACKAGES:
                        used.add(alias.name)
                        aliases[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else alias.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                    and node.module.split(".")[0] in SDK_PACKAGES:
                used.add(node.module)
                for alias in node.names:
                    if _is_module(f"{node.module}.{alias.name}"):
                        used.add(f"{node.module}.{alias.name}")
                        aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        attributes = [node for node in ast.walk(tree) if isinstance(node, ast.Attribute)]
        inner = {id(node.value) for node in attributes}  # `k8s.apps` inside `k8s.apps.v1.X`: use the whole chain
        for node in attributes:
            chain = _dotted(node) if id(node) not in inner else []
            if chain and chain[0] in aliases:
                module = aliases[chain[0]]
                for part in chain[1:]:
                    if not _is_module(f"{module}.{part}"):
                        break
                    module = f"{module}.{part}"
                used.add(module)
    return sorted(used)


@functools.lru_cache(maxsize=None)
def _program_sdk_modules(project_dir: Path) -> tuple[str, ...]:
    """`sdk_modules` of the program in `project_dir`, read once per process (a test session runs
    the program dozens of times)."""
    return tuple(sdk_modules(path.read_text() for path in program_files(project_dir)))


def load_sdk_modules(project_dir: Path) -> list[str]:
    """Import the SDK modules the program in `project_dir` uses, running their lazy loaders (the
    pulumi SDKs load submodules on first attribute access)."""
    modules = list(_program_sdk_modules(Path(project_dir).resolve()))
    for name in modules:
        getattr(importlib.import_module(name), "_loaded_", None)
    return modules
