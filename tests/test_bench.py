"""`python -m tools.bench`: its pure parts, and its glue with the timing stubbed out."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from components.settings import parse_settings
from tools import bench
from tools.offline import sdk_imports


def test_sdk_modules_follow_imports_and_attribute_chains():
    source = (
        "import os\nimport pulumi\nimport pulumi_kubernetes as k8s\nfrom pulumi_aws import eks, iam\n"
        "from pulumi_kubernetes.core.v1 import Namespace\nk8s.apps.v1.Deployment('x')\nos.path.join('a')\n"
    )
    assert sdk_imports.sdk_modules([source]) == [
        "pulumi", "pulumi_aws", "pulumi_aws.eks", "pulumi_aws.iam", "pulumi_kubernetes",
        "pulumi_kubernetes.apps.v1.Deployment", "pulumi_kubernetes.core.v1", "pulumi_kubernetes.core.v1.Namespace",
    ]


def test_the_programs_sdk_modules(project_dir):
    modules = sdk_imports.sdk_modules(p.read_text() for p in sdk_imports.program_files(project_dir))
    assert {"pulumi", "pulumi_aws.ec2", "pulumi_aws.eks", "pulumi_eks", "pulumi_kubernetes.core.v1", "pulumi_random"} <= set(modules)


@pytest.fixture(scope="module")
def preview_imports(tmp_path_factory) -> list[str]:
    tmp = tmp_path_factory.mktemp("probe")
    return bench.program_imports("tools.preview", bench.preview_args("dev", tmp / "out"), tmp / "imports.json")


def test_the_baseline_imports_what_the_preview_process_loaded(preview_imports):
    """Read from the preview process itself: the SDK modules the program touched, and every other
    third-party import (settings, YAML, policies), but nothing of the program's own."""
    packages = dict(bench.package_counts(preview_imports))
    assert {"pulumi", "pulumi_aws", "pulumi_kubernetes", "pulumi_eks", "pulumi_random", "pydantic", "yaml",
            "pulumi_policy"} <= set(packages)
    assert {"pulumi_aws.eks", "pulumi_kubernetes.core.v1", "pydantic.alias_generators"} <= set(preview_imports)
    assert not {"components", "tools", "policies", "__main__", "json", "asyncio"} & set(packages)
    assert "pulumi_aws.sagemaker" not in preview_imports  # lazy submodules the program never touched stay out


@pytest.mark.parametrize("as_the_tools_run", [True, False])
def test_the_baseline_loads_every_module_and_ends_like_the_preview(as_the_tools_run, preview_imports):
    probe = ("import gc, sys, types\n"
             f"missing = [m for m in {preview_imports!r} if type(sys.modules.get(m)) is not types.ModuleType]\n"
             "print(len(missing), gc.isenabled())\n")
    command = bench.baseline_command(preview_imports, as_the_tools_run)
    script = command[-1].replace("    return 0\n", "    " + probe.replace("\n", "\n    ") + "return 0\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["0", str(not as_the_tools_run)]  # all loaded (none lazy); GC as the preview's


def test_models_stack_is_a_valid_stack_without_hf_token(project_dir):
    document = yaml.safe_load((project_dir / "Pulumi.dev.yaml").read_text())
    document["config"].pop("genai-platform:hfToken", None)
    settings = parse_settings(bench.models_stack(document, 16)["config"])
    assert [m.name for m in settings.models] == [f"m{i}" for i in range(1, 17)]
    assert [m.service_name for m in settings.models][:2] == ["vllm-m1", "vllm-m2"]


def test_slope_and_results():
    assert bench.slope([1, 2, 4], [3, 5, 9]) == pytest.approx(2)
    assert bench.slope([2, 2], [1, 3]) == 0
    baseline = bench.Timing("imports only, as the tools run", [1.0, 1.2, 1.1], [1.0, 1.0, 1.0])
    preview = bench.Timing("preview dev, as the tools run", [1.6, 1.8, 1.7], [1.6, 1.6, 1.6], resources=171)
    default_baseline = bench.Timing("imports only, CPython defaults", [1.4] * 3, [1.4] * 3)
    default_preview = bench.Timing("preview dev, CPython defaults", [2.5] * 3, [2.5] * 3)
    scaling = [(1, bench.Timing("1 model", [2.0], [2.0], 171)), (16, bench.Timing("16 models", [3.5], [3.5], 261))]
    text = bench.render_results(baseline, preview, default_baseline, default_preview, scaling,
                                ["pulumi", "pulumi.runtime", "yaml"], 3, 1)
    assert "**1.60x** CPU (OVER the 1.5x target)" in text
    assert "The preview's own work (engine, program, policies, renderers) is 0.60 s CPU" in text
    assert "(GC on, normal exit) the ratio is 1.79x" in text and "from 2.50 s to 1.60 s CPU (0.64x)" in text
    assert "the 3 third-party modules" in text and "by package: pulumi (2), yaml (1)." in text
    assert "| 16 | 261 | 3.50 | 3.50 | 13.4 ms |" in text
    assert "Each extra model adds 6.0 resources and 100 ms of CPU" in text


def test_main_writes_results_md(tmp_path, monkeypatch):
    seen = []

    def fake_measure(commands, repeat, warmup):
        timings = []
        for label, command in commands:
            seen.append(command)
            if "--stack-file" in command:  # the generated stack file validates
                document = yaml.safe_load(Path(command[command.index("--stack-file") + 1]).read_text())
                parse_settings(document["config"])
            if "--out" in command:
                out = Path(command[command.index("--out") + 1])
                out.mkdir(parents=True)
                (out / "resources.json").write_text(json.dumps([{}] * (160 + len(seen))))
            timings.append(bench.Timing(label, [1.0 + len(seen)] * repeat, [1.0 + len(seen)] * repeat))
        return timings

    monkeypatch.setattr(bench, "measure", fake_measure)
    monkeypatch.setattr(bench, "program_imports", lambda module, args, out: ["pulumi", "yaml"])
    assert bench.main(["--out", str(tmp_path), "--repeat", "1", "--models", "1,2"]) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["results.md"]
    text = (tmp_path / "results.md").read_text()
    assert "## Preview vs the program's imports" in text and "## Scaling with self-hosted models" in text
    assert seen[0][1] == "-c" and "run_command(load)" in seen[0][2] and "['pulumi', 'yaml']" in seen[0][2]
    assert seen[1][1:4] == ["-m", "tools.preview", "dev"]
    assert seen[2][1] == "-c" and "sys.exit(load())" in seen[2][2] and "run_command" not in seen[2][2]
    assert "from tools.preview.__main__ import main" in seen[3][2] and len(seen) == 6


def test_the_gc_choices_leave_the_preview_byte_identical(tmp_path, project_dir):
    """The preview as the tools run it (GC off, frozen exit) and with CPython's defaults write the
    same bytes: the same summary on stdout and the same artifacts."""
    outputs = {}
    for label, command in (("tuned", bench.preview_command("dev", tmp_path / "tuned")),
                           ("defaults", bench.preview_with_defaults("dev", tmp_path / "defaults"))):
        proc = subprocess.run(command, cwd=project_dir, capture_output=True, timeout=600)
        assert proc.returncode == 0, proc.stderr.decode()[-2000:]
        files = {p.relative_to(tmp_path / label).as_posix(): p.read_bytes()
                 for p in sorted((tmp_path / label).rglob("*")) if p.is_file()}
        outputs[label] = (proc.stdout, files)
    (tuned_stdout, tuned), (default_stdout, defaults) = outputs["tuned"], outputs["defaults"]
    assert len(tuned) > 50 and tuned.keys() == defaults.keys()
    assert [name for name in tuned if tuned[name] != defaults[name]] == [] and tuned_stdout == default_stdout


def test_the_command_line_tools_run_without_cyclic_gc(project_dir):
    script = ("import atexit, gc\nfrom tools.offline.process import run_command\n"
              "atexit.register(lambda: print(gc.isenabled(), gc.get_freeze_count() > 0))\n"
              "run_command(lambda: 4)\n")
    proc = subprocess.run([sys.executable, "-c", script], cwd=project_dir, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 4 and proc.stdout == "False True\n", proc.stderr


def test_measure_takes_turns_and_skips_warmup(tmp_path):
    log = tmp_path / "order.txt"
    commands = [(name, [sys.executable, "-c", f"open({str(log)!r}, 'a').write({name!r})"]) for name in ("a", "b")]
    timings = bench.measure(commands, repeat=2, warmup=1)
    assert log.read_text() == "ababab"  # rounds alternate the commands; the warm-up round runs too
    assert [t.label for t in timings] == ["a", "b"] and all(len(t.cpu) == len(t.seconds) == 2 for t in timings)
