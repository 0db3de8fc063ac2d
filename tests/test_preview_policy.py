"""The offline preview runs the policy pack: policy.json, a summary section, the exit code."""

from __future__ import annotations

import json
import subprocess
import sys

import yaml


def _preview(project_dir, stack_file, out, stack="dev"):
    return subprocess.run(
        [sys.executable, "-m", "tools.preview", stack, "--stack-file", str(stack_file), "--out", str(out)],
        cwd=project_dir, capture_output=True, text=True, timeout=300,
    )


def test_clean_stack_passes_and_reports(project_dir, tmp_path):
    proc = _preview(project_dir, project_dir / "Pulumi.dev.yaml", tmp_path)
    assert proc.returncode == 0, proc.stderr
    results = json.loads((tmp_path / "policy.json").read_text())
    assert results["config"] == "policies/config.dev.json"
    assert results["mandatory"] == []
    assert "Policy pack" in proc.stdout and "0 mandatory" in proc.stdout
    assert "## Policy pack" in (tmp_path / "summary.md").read_text()


def test_mandatory_violation_fails_the_preview(project_dir, tmp_path):
    stack = yaml.safe_load((project_dir / "Pulumi.dev.yaml").read_text())
    stack["config"]["genai-platform:gateway"]["image"] = "quay.io/example/litellm:v1.0.0"
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text(yaml.safe_dump(stack))
    proc = _preview(project_dir, stack_file, tmp_path / "out")
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr
    results = json.loads((tmp_path / "out" / "policy.json").read_text())
    assert {v["policy"] for v in results["mandatory"]} == {"k8s-image-registry"}
    assert "quay.io/example/litellm:v1.0.0" in results["mandatory"][0]["message"]
    assert "[mandatory] k8s-image-registry" in proc.stdout


def test_a_new_stack_passes_with_the_packs_own_defaults(project_dir, tmp_path):
    """A `staging` stack (dev's settings) with no policies/config.staging.json: no file to copy first."""
    assert not (project_dir / "policies" / "config.staging.json").exists()
    stack_file = tmp_path / "Pulumi.staging.yaml"
    stack_file.write_text((project_dir / "Pulumi.dev.yaml").read_text())
    proc = _preview(project_dir, stack_file, tmp_path / "out", stack="staging")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr
    results = json.loads((tmp_path / "out" / "policy.json").read_text())
    assert results["config"] is None and results["mandatory"] == []
    assert {n["policy"] for n in results["notApplicable"]} == {"k8s-container-probes", "k8s-container-security-context",
                                                               "iam-no-wildcards"}  # the front door's controller policy
    assert "pack config: built-in defaults" in proc.stdout
