"""How the offline engine uses the process: SDK modules loaded and frozen for a run, the heap
handed back afterwards, and command-line runs that end without exit-time collections."""

from __future__ import annotations

import gc
import subprocess
import sys
import types

from tools.offline.engine import run_stack
from tools.offline.sdk_imports import load_sdk_modules


def test_a_run_freezes_the_heap_and_hands_it_back_afterwards(monkeypatch, stack_runs):
    frozen_during_run = []
    real_freeze = gc.freeze

    def freeze():
        real_freeze()
        frozen_during_run.append(gc.get_freeze_count())

    monkeypatch.setattr(gc, "freeze", freeze)
    run = run_stack("dev")
    assert frozen_during_run and frozen_during_run[0] > 100_000  # the SDK heap was frozen for the run
    assert gc.get_freeze_count() == 0  # and handed back to the collector
    assert [r.urn for r in run.resources] == [r.urn for r in stack_runs["dev"].resources]


def test_sdk_modules_are_loaded_not_left_lazy(project_dir):
    modules = load_sdk_modules(project_dir)
    assert "pulumi_aws.ec2" in modules and "pulumi_kubernetes.core.v1" in modules
    assert all(type(sys.modules[name]) is types.ModuleType for name in modules if name in sys.modules)
    assert "Vpc" in vars(sys.modules["pulumi_aws.ec2"])


def test_exit_process_keeps_the_code_flushes_and_runs_atexit(project_dir):
    script = (
        "import atexit, gc, sys\n"
        "from tools.offline.engine import exit_process\n"
        "atexit.register(lambda: print('atexit frozen', gc.get_freeze_count() > 0))\n"
        "sys.stdout.write('unflushed ')\n"
        "exit_process(3)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=project_dir, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout == "unflushed atexit frozen True\n"
