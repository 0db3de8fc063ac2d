"""`python -m tools.bench --out DIR`: how long the offline preview takes, and how it scales.

1. The preview of the dev stack (`python -m tools.preview dev --out ...`, a fresh process per
   repetition) against a baseline process that imports exactly the third-party modules the
   preview process has loaded when it ends (read from that process: the SDKs, pydantic, PyYAML,
   the policy SDK, protobuf, gRPC, ...), and nothing of the program's own. Both run the way the
   command-line tools run (`tools.offline.process.run_command`: cyclic GC off, frozen heap at
   exit); the ratio of their CPU medians is the headline and should stay <= 1.5x. The same pair
   with CPython's defaults (GC on, normal exit) is reported too, and what the process-level
   choices save the preview.
2. The preview of the dev stack with 1..16 self-hosted models (temporary stack files with N
   `genai-platform:models` entries `{name: m<i>, hfModelId: <Llama 3.2 1B>, slug: m<i>, gated: false}`).
Writes DIR/results.md (and nothing else). Takes about three minutes with the defaults.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

import yaml

PROJECT_DIR = Path(__file__).resolve().parents[1]
TARGET_RATIO = 1.5
DEFAULT_MODELS = (1, 2, 4, 8, 16)
# Run a command-line module in this process and, when it exits, write the third-party modules it
# has loaded: not the standard library's, not the program's own (files of the project outside a
# site-packages), not pulumi's lazy submodules that were never touched, not the modules without
# an import spec that extension modules make for themselves (Cython's runtime).
PROBE = """
import atexit, json, runpy, sys, sysconfig

def _write():
    names, stdlib = [], sysconfig.get_paths()["stdlib"]
    for name, module in list(sys.modules.items()):
        if module is None or type(module).__name__ == "_LazyModule" or getattr(module, "__spec__", None) is None:
            continue
        top = name.partition(".")[0]
        path = getattr(module, "__file__", None) or ""
        if top in sys.stdlib_module_names or path.startswith(stdlib + "/") or (
                path.startswith({project!r}) and "site-packages" not in path):
            continue
        names.append(name)
    with open({out!r}, "w") as f:
        json.dump(sorted(names), f)

atexit.register(_write)
sys.argv = [{module!r}, *{args!r}]
runpy.run_module({module!r}, run_name="__main__", alter_sys=True)
"""
BASELINE = """
import importlib, sys

def load():
    for name in {modules!r}:
        # pulumi SDK submodules load lazily: touching an attribute runs them, as the program does
        getattr(importlib.import_module(name), "_bench_load_", None)
    return 0
"""
AS_THE_TOOLS_RUN = "from tools.offline.process import run_command\nrun_command({main})\n"
WITH_DEFAULTS = "sys.exit({main})\n"


# stack files with N models

def models_stack(document: dict[str, Any], count: int) -> dict[str, Any]:
    """`document` (a stack file) with `count` small self-hosted models, none gated."""
    config = dict(document.get("config") or {})
    config["genai-platform:models"] = [
        {"name": f"m{i}", "hfModelId": "meta-llama/Llama-3.2-1B-Instruct", "slug": f"m{i}", "gated": False}
        for i in range(1, count + 1)
    ]
    # One node per model: each takes the 2 NeuronCores of an inf2.xlarge
    neuron = dict(config.get("genai-platform:neuron") or {})
    neuron["maxSize"] = max(int(neuron.get("maxSize", 1)), count)
    neuron["desiredSize"] = count
    config["genai-platform:neuron"] = neuron
    return {**document, "config": config}


# timing

@dataclass
class Timing:
    """Wall-clock and CPU (user + system) seconds of repeated runs of one command."""

    label: str
    seconds: list[float]
    cpu: list[float]
    resources: Optional[int] = None

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def median_cpu(self) -> float:
        return statistics.median(self.cpu)


def slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Least-squares slope of ys over xs."""
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    denominator = sum((x - mean_x) ** 2 for x in xs)
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / denominator if denominator else 0.0


def _run_once(label: str, command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one run of `command` (a failure ends the benchmark)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=PROJECT_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"bench: {label} failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    return elapsed, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def measure(commands: Sequence[tuple[str, list[str]]], repeat: int, warmup: int) -> list[Timing]:
    """Run each (label, command) `warmup + repeat` times, in rounds that take the commands in
    turn, so that a machine growing busier or quieter affects all of them alike."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    timings = [Timing(label, [], []) for label, _ in commands]
    for i in range(warmup + repeat):
        for timing, (label, command) in zip(timings, commands):
            elapsed, cpu = _run_once(label, command, env)
            if i >= warmup:
                timing.seconds.append(elapsed)
                timing.cpu.append(cpu)
    for timing in timings:
        print(f"  {timing.label}: median {timing.median:.2f} s wall, {timing.median_cpu:.2f} s CPU over {repeat}",
              file=sys.stderr)
    return timings


def preview_args(stack: str, out: Path, stack_file: Optional[Path] = None) -> list[str]:
    return [stack, "--out", str(out)] + (["--stack-file", str(stack_file)] if stack_file else [])


def preview_command(stack: str, out: Path, stack_file: Optional[Path] = None) -> list[str]:
    """The preview as users run it (`tools.offline.process.run_command`)."""
    return [sys.executable, "-m", "tools.preview", *preview_args(stack, out, stack_file)]


def preview_with_defaults(stack: str, out: Path) -> list[str]:
    """The same preview with CPython's defaults: cyclic GC on, a normal exit."""
    script = "import sys\nfrom tools.preview.__main__ import main\n" + WITH_DEFAULTS.format(
        main=f"main({preview_args(stack, out)!r})")
    return [sys.executable, "-c", script]


def baseline_command(modules: Sequence[str], as_the_tools_run: bool) -> list[str]:
    """A process that imports `modules` and nothing else, ending as the tools do or by default."""
    finish = AS_THE_TOOLS_RUN.format(main="load") if as_the_tools_run else WITH_DEFAULTS.format(main="load()")
    return [sys.executable, "-c", BASELINE.format(modules=list(modules)) + finish]


def program_imports(module: str, args: Sequence[str], out: Path) -> list[str]:
    """The third-party modules a run of `python -m <module> <args>` has loaded when it ends."""
    script = PROBE.format(project=str(PROJECT_DIR), out=str(out), module=module, args=list(args))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_DIR, env=env, capture_output=True, text=True)
    if proc.returncode != 0 or not out.exists():
        raise SystemExit(f"bench: probing the imports of {module} failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    import json  # noqa: PLC0415

    return json.loads(out.read_text())


def count_resources(out: Path) -> int:
    import json  # noqa: PLC0415

    return len(json.loads((out / "resources.json").read_text()))


# report

def package_counts(modules: Sequence[str]) -> list[tuple[str, int]]:
    """Top-level packages of `modules`, most modules first."""
    counts: dict[str, int] = {}
    for name in modules:
        top = name.partition(".")[0]
        counts[top] = counts.get(top, 0) + 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def render_results(baseline: Timing, preview: Timing, default_baseline: Timing, default_preview: Timing,
                   scaling: list[tuple[int, Timing]], modules: list[str], repeat: int, scale_repeat: int) -> str:
    ratio, wall_ratio = preview.median_cpu / baseline.median_cpu, preview.median / baseline.median
    default_ratio = default_preview.median_cpu / default_baseline.median_cpu
    verdict = "within" if ratio <= TARGET_RATIO else "OVER"
    packages = ", ".join(f"{name} ({count})" for name, count in package_counts(modules))
    lines = [
        "# Offline preview benchmark", "",
        f"Python {platform.python_version()} on {platform.system()} {platform.machine()}, {os.cpu_count()} CPUs. "
        f"Fresh processes; medians of {repeat} runs, the four commands taking turns (scaling: {scale_repeat}). CPU = user + "
        "system seconds of the process, steadier than wall-clock time on a busy machine.", "",
        "## Preview vs the program's imports", "",
        "| run | resources | median CPU s | median wall s | min wall s | max wall s |", "|---|---:|---:|---:|---:|---:|",
        *(f"| {t.label} | {t.resources or ''} | {t.median_cpu:.2f} | {t.median:.2f} | {min(t.seconds):.2f} | "
          f"{max(t.seconds):.2f} |" for t in (baseline, preview, default_baseline, default_preview)),
        "",
        f"Ratio preview / imports, both run as the command-line tools run (cyclic GC off, frozen heap at exit): "
        f"**{ratio:.2f}x** CPU ({verdict} the {TARGET_RATIO}x target), {wall_ratio:.2f}x wall-clock. The preview's own "
        f"work (engine, program, policies, renderers) is {preview.median_cpu - baseline.median_cpu:.2f} s CPU.", "",
        f"With CPython's defaults on both sides (GC on, normal exit) the ratio is {default_ratio:.2f}x. Running without "
        f"the cyclic collector and exiting with a frozen heap take the preview from {default_preview.median_cpu:.2f} s "
        f"to {preview.median_cpu:.2f} s CPU ({preview.median_cpu / default_preview.median_cpu:.2f}x); its artifacts "
        "are byte-identical either way (tests/test_bench.py).", "",
        f"The baseline imports the {len(modules)} third-party modules the preview process has loaded when it exits "
        f"(read from the process; the standard library and the program's own modules left out), by package: {packages}.",
        "",
        "## Scaling with self-hosted models", "",
        "| models | resources | median CPU s | median wall s | CPU per resource |", "|---:|---:|---:|---:|---:|",
        *(f"| {n} | {t.resources} | {t.median_cpu:.2f} | {t.median:.2f} | {t.median_cpu / t.resources * 1000:.1f} ms |"
          for n, t in scaling),
        "",
    ]
    if len(scaling) >= 2:
        xs = [n for n, _ in scaling]
        per_model = slope(xs, [t.median_cpu for _, t in scaling])
        per_model_resources = slope(xs, [t.resources or 0 for _, t in scaling])
        first, last = scaling[0], scaling[-1]
        lines += [
            f"Each extra model adds {per_model_resources:.1f} resources and {per_model * 1000:.0f} ms of CPU "
            f"(least-squares slope); {first[0]} -> {last[0]} models: {first[1].median_cpu:.2f} s -> "
            f"{last[1].median_cpu:.2f} s CPU ({last[1].median_cpu / first[1].median_cpu:.2f}x).", "",
        ]
    return "\n".join(lines)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="write DIR/results.md")
    parser.add_argument("--stack", default="dev", help="stack to preview (default dev)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement (default 5)")
    parser.add_argument("--scale-repeat", type=int, default=2, help="runs per model count (default 2)")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured rounds before the baseline comparison (default 1)")
    parser.add_argument("--models", default=",".join(map(str, DEFAULT_MODELS)), help="model counts (default 1,2,4,8,16)")
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.models.split(",") if n.strip()]

    stack_file = PROJECT_DIR / f"Pulumi.{args.stack}.yaml"
    document = yaml.safe_load(stack_file.read_text())
    with tempfile.TemporaryDirectory(prefix="genai-bench-") as tmp_name:
        tmp = Path(tmp_name)
        print("bench: reading what the preview imports", file=sys.stderr)
        modules = program_imports("tools.preview", preview_args(args.stack, tmp / "probe"), tmp / "imports.json")
        print("bench: preview vs the program's imports", file=sys.stderr)
        baseline, preview, default_baseline, default_preview = measure([
            ("imports only, as the tools run", baseline_command(modules, as_the_tools_run=True)),
            (f"preview {args.stack}, as the tools run", preview_command(args.stack, tmp / "preview")),
            ("imports only, CPython defaults", baseline_command(modules, as_the_tools_run=False)),
            (f"preview {args.stack}, CPython defaults", preview_with_defaults(args.stack, tmp / "preview-defaults")),
        ], args.repeat, args.warmup)
        preview.resources = default_preview.resources = count_resources(tmp / "preview")
        print("bench: scaling with self-hosted models", file=sys.stderr)
        scaling = []
        for count in counts:
            path = tmp / f"Pulumi.{args.stack}-{count}-models.yaml"
            path.write_text(yaml.safe_dump(models_stack(document, count), sort_keys=False))
            out = tmp / f"models-{count}"
            [timing] = measure([(f"{count} model{'s' if count != 1 else ''}", preview_command(args.stack, out, path))],
                               args.scale_repeat, 0)
            timing.resources = count_resources(out)
            scaling.append((count, timing))
    text = render_results(baseline, preview, default_baseline, default_preview, scaling, modules, args.repeat,
                          args.scale_repeat)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
