"""`python -m tools.bench --out DIR`: how long the offline preview takes, and how it scales.

1. The preview of the dev stack (`python -m tools.preview dev --out ...`, a fresh process per
   repetition) against a baseline process that only imports the SDK modules the program uses
   (found by reading `__main__.py` and `components/`); the ratio of the medians should stay
   <= 1.5x: the offline engine and the renderers should cost less than the imports. The preview
   ends with a frozen heap (`tools.offline.engine.exit_process`), which skips the interpreter's
   exit-time collections; a second baseline that ends the same way shows the ratio like for like.
2. The preview of the dev stack with 1..16 self-hosted models (temporary stack files with N
   `genai-platform:models` entries `{name: m<i>, hfModelId: <Llama 3.2 1B>, slug: m<i>, gated: false}`).
Writes DIR/results.md (and nothing else). Takes about two minutes with the defaults.
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

from tools.offline.sdk_imports import program_files, sdk_modules

PROJECT_DIR = Path(__file__).resolve().parents[1]
TARGET_RATIO = 1.5
DEFAULT_MODELS = (1, 2, 4, 8, 16)
BASELINE = """
import importlib
for name in {modules!r}:
    # pulumi SDK submodules load lazily: touching an attribute runs them, as the program does
    getattr(importlib.import_module(name), "_bench_load_", None)
"""  # what tools.offline.sdk_imports.load_sdk_modules does before a run
FROZEN_EXIT = "import gc\ngc.freeze()  # as tools.offline.engine.exit_process\n"


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


def preview_command(stack: str, out: Path, stack_file: Optional[Path] = None) -> list[str]:
    command = [sys.executable, "-m", "tools.preview", stack, "--out", str(out)]
    return command + (["--stack-file", str(stack_file)] if stack_file else [])


def count_resources(out: Path) -> int:
    import json  # noqa: PLC0415

    return len(json.loads((out / "resources.json").read_text()))


# report

def render_results(baseline: Timing, frozen_baseline: Timing, preview: Timing, scaling: list[tuple[int, Timing]],
                   modules: list[str], repeat: int, scale_repeat: int) -> str:
    ratio, wall_ratio = preview.median_cpu / baseline.median_cpu, preview.median / baseline.median
    like_for_like = preview.median_cpu / frozen_baseline.median_cpu
    verdict = "within" if ratio <= TARGET_RATIO else "OVER"
    lines = [
        "# Offline preview benchmark", "",
        f"Python {platform.python_version()} on {platform.system()} {platform.machine()}, {os.cpu_count()} CPUs. "
        f"Fresh processes; medians of {repeat} runs, baseline and preview taking turns (scaling: {scale_repeat}). CPU = user + system seconds of "
        "the process, steadier than wall-clock time on a busy machine.", "",
        "## Preview vs SDK import baseline", "",
        "| run | resources | median CPU s | median wall s | min wall s | max wall s |", "|---|---:|---:|---:|---:|---:|",
        *(f"| {t.label} | {t.resources or ''} | {t.median_cpu:.2f} | {t.median:.2f} | {min(t.seconds):.2f} | "
          f"{max(t.seconds):.2f} |" for t in (baseline, frozen_baseline, preview)),
        "",
        f"Ratio preview / baseline: **{ratio:.2f}x** CPU ({verdict} the {TARGET_RATIO}x target), "
        f"{wall_ratio:.2f}x wall-clock.", "",
        "The preview freezes its heap before it exits, so the interpreter's exit-time collections skip "
        f"the SDK's objects: the plain baseline spends {baseline.median_cpu - frozen_baseline.median_cpu:.2f} s "
        f"CPU on them. Like for like (the baseline ending the same way) the ratio is {like_for_like:.2f}x: the "
        f"preview's own work beyond importing the SDKs is {preview.median_cpu - frozen_baseline.median_cpu:.2f} s CPU.", "",
        f"The baseline imports the {len(modules)} SDK modules the program uses (read from `__main__.py` and "
        f"`components/`): {', '.join(f'`{m}`' for m in modules)}.", "",
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

    modules = sdk_modules(path.read_text() for path in program_files(PROJECT_DIR))
    stack_file = PROJECT_DIR / f"Pulumi.{args.stack}.yaml"
    document = yaml.safe_load(stack_file.read_text())
    with tempfile.TemporaryDirectory(prefix="genai-bench-") as tmp_name:
        tmp = Path(tmp_name)
        print("bench: preview vs import baseline", file=sys.stderr)
        baseline, frozen_baseline, preview = measure([
            ("SDK imports only", [sys.executable, "-c", BASELINE.format(modules=modules)]),
            ("SDK imports, frozen exit", [sys.executable, "-c", BASELINE.format(modules=modules) + FROZEN_EXIT]),
            (f"preview {args.stack}", preview_command(args.stack, tmp / "preview")),
        ], args.repeat, args.warmup)
        preview.resources = count_resources(tmp / "preview")
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
    text = render_results(baseline, frozen_baseline, preview, scaling, modules, args.repeat, args.scale_repeat)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
