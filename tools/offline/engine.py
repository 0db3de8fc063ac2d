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
from typing import Any, Optional, Sequence

import pulumi
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _sync_await

from components.settings import PROJECT
from components.settings.keys import SECRET_PREFIXES
from components.settings.loading import read_stack_file
from tools.offline.eks_api import EksApiError
from tools.offline.mocks import DEFAULT_CALLER_ARN, PlatformMocks
from tools.offline.monitor import RecordingMonitor
from tools.offline.process import exit_process  # noqa: F401 - re-exported for the command-line tools
from tools.offline.records import StackRun
from tools.offline.sdk_imports import load_sdk_modules

PROJECT_DIR = Path(__file__).resolve().parents[2]
SECRET_PLACEHOLDER = "offline-placeholder-{key}"
# Secrets whose value the settings check for a prefix (components/settings/keys.py SECRET_PREFIXES)
URL_SECRET_PLACEHOLDER = "https://offline-placeholder-{key}.invalid/hook"


def runtime_config(config: dict[str, Any], secret_keys: set[str]) -> dict[str, str]:
    """Stack-file values as the Pulumi CLI hands them to a program: strings, objects as JSON."""
    out: dict[str, str] = {}
    for key, value in config.items():
        if key in secret_keys:
            name = key.split(":")[-1]
            out[key] = (URL_SECRET_PLACEHOLDER if name in SECRET_PREFIXES else SECRET_PLACEHOLDER).format(key=name)
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
    caller_arn: str = DEFAULT_CALLER_ARN,
    iam_roles: Sequence[str] = (),
    creator_arn: Optional[str] = None,
) -> StackRun:
    """Run the program for `Pulumi.<stack>.yaml` offline; `overrides` replace config keys.

    `caller_arn`: who runs it (what sts:GetCallerIdentity reports: an IAM user or role, or an
    assumed-role session); `iam_roles`: role ARNs of the account, for sessions of roles with a path;
    `creator_arn`: who created the cluster (an update run by someone else; default: the caller).

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
    # and no pending outputs of an earlier (failed) run, as pulumi.runtime.test does. The previous
    # run's loop is closed here, while its self-pipe is still open: left to the garbage collector,
    # its finaliser may run after the pipe's and fail ("Invalid file descriptor: -1").
    _close_previous_loop()
    loop = asyncio.new_event_loop()
    loop.set_exception_handler(_quiet_about_refusals)
    asyncio.set_event_loop(loop)
    runtime_settings.SETTINGS.outputs.clear()
    mocks = PlatformMocks(region, caller_arn, iam_roles, creator_arn)
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor)
    set_all_config(runtime_config(config, secret_keys), sorted(secret_keys))
    # set_mocks created and closed a root stack; run the program in a fresh one, as the CLI does
    runtime_settings.ROOT.set(None)

    program = project_dir / "__main__.py"
    if str(project_dir) not in sys.path:
        sys.path.insert(0, str(project_dir))
    # The SDK modules make a heap of ~250k objects that lives as long as the process. With the
    # cyclic collector on (tests, in-process runs) they are loaded first and frozen, so that full
    # collections during the run skip them; unfreeze hands them back afterwards. The command-line
    # tools run with the collector off (tools.offline.process), where neither step is needed.
    collecting = gc.isenabled()
    if collecting:
        load_sdk_modules(project_dir)
        gc.freeze()
    try:
        _sync_await(run_in_stack(lambda: runpy.run_path(str(program), run_name="__main__")))
    except BaseException:
        _drain(loop)
        raise
    finally:
        if collecting:
            gc.unfreeze()

    resources = sorted(monitor.records, key=lambda r: r.urn)
    return StackRun(
        stack=stack,
        resources=resources,
        outputs=dict(sorted(monitor.stack_outputs.items())),
        secret_outputs=set(monitor.secret_outputs),
        asg_tags=mocks.asg_tags,
    )


def _close_previous_loop() -> None:
    """Close the event loop an earlier run left current (a successful run keeps it open)."""
    try:
        previous = asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:  # none set in this thread
        return
    if not previous.is_closed() and not previous.is_running():
        previous.close()


def _quiet_about_refusals(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """A refusal of the emulated EKS API fails every output of the refused resource; run_stack
    raises it once, so the copies left in those outputs' futures are not logged again."""
    if not isinstance(context.get("exception"), EksApiError):
        loop.default_exception_handler(context)


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
