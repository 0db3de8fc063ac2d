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


def test_the_programs_sdk_modules_and_the_baseline_script(project_dir):
    modules = sdk_imports.sdk_modules(p.read_text() for p in sdk_imports.program_files(project_dir))
    assert {"pulumi", "pulumi_aws.ec2", "pulumi_aws.eks", "pulumi_eks", "pulumi_kubernetes.core.v1", "pulumi_random"} <= set(modules)
    script = bench.BASELINE.format(modules=["pulumi_random"])
    proc = subprocess.run([sys.executable, "-c", script + "import sys; print(type(sys.modules['pulumi_random']).__name__)"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "module", proc.stderr  # loaded, not left lazy


def test_models_stack_is_a_valid_stack_without_hf_token(project_dir):
    document = yaml.safe_load((project_dir / "Pulumi.dev.yaml").read_text())
    document["config"].pop("genai-platform:hfToken", None)
    settings = parse_settings(bench.models_stack(document, 16)["config"])
    assert [m.name for m in settings.models] == [f"m{i}" for i in range(1, 17)]
    assert [m.service_name for m in settings.models][:2] == ["vllm-m1", "vllm-m2"]


def test_slope_and_results():
    assert bench.slope([1, 2, 4], [3, 5, 9]) == pytest.approx(2)
    assert bench.slope([2, 2], [1, 3]) == 0
    baseline = bench.Timing("SDK imports only", [1.0, 1.2, 1.1], [1.0, 1.0, 1.0])
    frozen = bench.Timing("SDK imports, frozen exit", [0.6, 0.6, 0.6], [0.6, 0.5, 0.6])
    preview = bench.Timing("preview dev", [1.6, 1.8, 1.7], [1.6, 1.6, 1.6], resources=171)
    scaling = [(1, bench.Timing("1 model", [2.0], [2.0], 171)), (16, bench.Timing("16 models", [3.5], [3.5], 261))]
    text = bench.render_results(baseline, frozen, preview, scaling, ["pulumi"], 3, 1)
    assert "**1.60x** CPU (OVER the 1.5x target)" in text
    assert "spends 0.40 s CPU on them. Like for like (the baseline ending the same way) the ratio is 2.67x" in text
    assert "own work beyond importing the SDKs is 1.00 s CPU" in text
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
    assert bench.main(["--out", str(tmp_path), "--repeat", "1", "--models", "1,2"]) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["results.md"]
    text = (tmp_path / "results.md").read_text()
    assert "## Preview vs SDK import baseline" in text and "## Scaling with self-hosted models" in text
    assert seen[0][1] == "-c" and seen[1][1] == "-c" and "gc.freeze()" in seen[1][2]
    assert seen[2][1:4] == ["-m", "tools.preview", "dev"] and len(seen) == 5


def test_measure_takes_turns_and_skips_warmup(tmp_path):
    log = tmp_path / "order.txt"
    commands = [(name, [sys.executable, "-c", f"open({str(log)!r}, 'a').write({name!r})"]) for name in ("a", "b")]
    timings = bench.measure(commands, repeat=2, warmup=1)
    assert log.read_text() == "ababab"  # rounds alternate the commands; the warm-up round runs too
    assert [t.label for t in timings] == ["a", "b"] and all(len(t.cpu) == len(t.seconds) == 2 for t in timings)
