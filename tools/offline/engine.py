"""Run the real `__main__.py` for a stack file entirely offline with `pulumi.runtime.set_mocks`.

`run_stack("dev")` loads `Pulumi.dev.yaml` into the runtime config (secure values become
placeholders), installs the mocks (process-global: installed per call, never at import), runs
the program inside a fresh root stack and returns every registered resource and output.
"""

from __future__ import annotations

import asyncio
import gc
import json
import runpy
import sys
from pathlib import Path
from typing import Any, NoReturn, Optional

import pulumi
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _sync_await

from components.settings import PROJECT
from components.settings.loading import read_stack_file
from tools.offline.mocks import PlatformMocks
from tools.offline.monitor import RecordingMonitor
from tools.offline.records import StackRun
from tools.offline.sdk_imports import load_sdk_modules

PROJECT_DIR = Path(__file__).resolve().parents[2]
SECRET_PLACEHOLDER = "offline-placeholder-{key}"


def runtime_config(config: dict[str, Any], secret_keys: set[str]) -> dict[str, str]:
    """Stack-file values as the Pulumi CLI hands them to a program: strings, objects as JSON."""
    out: dict[str, str] = {}
    for key, value in config.items():
        if key in secret_keys:
            out[key] = SECRET_PLACEHOLDER.format(key=key.split(":")[-1])
        elif isinstance(value, str):
            out[key] = value
        else:
            out[key] = json.dumps(value)
    return out


def run_stack(
    stack: str,
    project_dir: Path = PROJECT_DIR,
    overrides: Optional[dict[str, Any]] = None,
    stack_file: Optional[Path] = None,
) -> StackRun:
    """Run the program for `Pulumi.<stack>.yaml` offline; `overrides` replace config keys.

    Raises `components.settings.SettingsError` (via `pulumi.RunError`) for bad config.
    """
    project_dir = Path(project_dir).resolve()
    config, secret_keys = read_stack_file(stack_file or project_dir / f"Pulumi.{stack}.yaml")
    for key, value in (overrides or {}).items():
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
            if isinstance(value, dict) and set(value) == {"secure"}:  # as a stack file writes a secret
                secret_keys.add(key)
    region = str(config.get("aws:region", "us-east-1"))

    # A fresh loop per run: earlier code in the process (asyncio.run) may have closed the last one;
    # and no pending outputs of an earlier (failed) run, as pulumi.runtime.test does
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    runtime_settings.SETTINGS.outputs.clear()
    mocks = PlatformMocks(region)
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor)
    set_all_config(runtime_config(config, secret_keys), sorted(secret_keys))
    # set_mocks created and closed a root stack; run the program in a fresh one, as the CLI does
    runtime_settings.ROOT.set(None)

    program = project_dir / "__main__.py"
    if str(project_dir) not in sys.path:
        sys.path.insert(0, str(project_dir))
    # The SDK modules make a heap of ~250k objects that lives as long as the process: loaded first
    # (as the benchmark's baseline loads them) and frozen, full collections during the run skip
    # them (about 0.1 s less CPU). Unfreeze hands them back to the collector afterwards.
    load_sdk_modules(project_dir)
    gc.freeze()
    try:
        _sync_await(run_in_stack(lambda: runpy.run_path(str(program), run_name="__main__")))
    except BaseException:
        _drain(loop)
        raise
    finally:
        gc.unfreeze()

    resources = sorted(monitor.records, key=lambda r: r.urn)
    return StackRun(
        stack=stack,
        resources=resources,
        outputs=dict(sorted(monitor.stack_outputs.items())),
        secret_outputs=set(monitor.secret_outputs),
    )


def exit_process(code: int) -> NoReturn:
    """End a command-line run with `code`, the heap frozen first.

    At exit CPython runs full collections over every object left: for the SDK modules' ~300k
    objects that is about 0.8 s of CPU, a third of a preview, spent on memory the operating
    system reclaims anyway. Frozen objects are skipped; stdio is flushed and atexit handlers
    run as usual.
    """
    gc.freeze()
    sys.exit(code)


def _drain(loop: asyncio.AbstractEventLoop) -> None:
    """After a failed run: finish or cancel what it left pending and retrieve every exception,
    so the failure is reported once (by the caller), not again by asyncio at shutdown."""
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    leftovers = list(runtime_settings.SETTINGS.outputs) + list(runtime_settings._get_rpc_manager().rpcs)
    for item in leftovers:
        if isinstance(item, asyncio.Future) and item.done() and not item.cancelled():
            item.exception()
    runtime_settings.SETTINGS.outputs.clear()
    loop.close()
