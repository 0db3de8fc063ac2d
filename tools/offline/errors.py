"""Run a stack for a command-line tool: bad configuration prints its message and exits 2."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Optional

import pulumi

from components.settings import SettingsError
from tools.offline.records import StackRun

EXIT_BAD_CONFIG = 2


def run_or_exit(stack: str, *, stack_file: Optional[Path] = None, overrides: Optional[dict[str, Any]] = None,
                project_dir: Optional[Path] = None) -> StackRun:
    """`run_stack`, or print the settings error (no traceback) and exit with code 2."""
    from tools.offline.engine import PROJECT_DIR, run_stack  # noqa: PLC0415 - keeps --help fast

    try:
        return run_stack(stack, project_dir or PROJECT_DIR, overrides=overrides, stack_file=stack_file)
    except (SettingsError, pulumi.RunError) as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_CONFIG) from None
