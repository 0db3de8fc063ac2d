"""`python -m tools.preview <stack> --diff REV` against a temporary git repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tools.preview.diff import DiffReport, RevisionError, compare, render_revision

PROJECT_FILES = ("__main__.py", "Pulumi.yaml", "Pulumi.dev.yaml", "components", "policies", "tools")
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env).stdout


def commit(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", message)


def set_neuron(repo: Path, **values) -> None:
    path = repo / "Pulumi.dev.yaml"
    document = yaml.safe_load(path.read_text())
    document["config"]["genai-platform:neuron"].update(values)
    path.write_text(yaml.safe_dump(document, sort_keys=False))


@pytest.fixture(scope="module")
def repo(project_dir, tmp_path_factory) -> Path:
    """History: no dev stack -> invalid dev stack -> the repo's dev stack -> 2 Neuron nodes."""
    repo = tmp_path_factory.mktemp("repo")
    for name in PROJECT_FILES:
        source = project_dir / name
        if source.is_dir():
            shutil.copytree(source, repo / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, repo / name)
    git(repo, "init", "--quiet", "--initial-branch=main")
    dev = (repo / "Pulumi.dev.yaml").read_text()
    (repo / "Pulumi.dev.yaml").unlink()
    commit(repo, "no dev stack")
    (repo / "Pulumi.dev.yaml").write_text(dev)
    set_neuron(repo, desiredSize=7)
    commit(repo, "invalid dev stack")
    (repo / "Pulumi.dev.yaml").write_text(dev)
    commit(repo, "dev stack")
    set_neuron(repo, desiredSize=2)
    commit(repo, "two Neuron nodes")
    return repo


@pytest.fixture(scope="module")
def pr_comment(repo) -> str:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-m", "tools.preview", "dev", "--diff", "HEAD~1", "--format", "markdown"],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_diff_shows_the_changed_node_group_and_the_cost_delta(pr_comment):
    assert pr_comment.startswith("### Preview diff of stack `dev`: `HEAD~1` (")
    assert "| added | 0 |" in pr_comment and "| removed | 0 |" in pr_comment
    changed = pr_comment.split("#### Changed (", 1)[1]
    assert f"<details><summary><code>{NODE_GROUP}</code> genai-dev-neuron-ng</summary>" in changed
    assert "-    desiredSize: 1\n+    desiredSize: 2\n" in changed
    assert "genai-dev-system-ng" not in changed
    delta = 730 * 0.758 * 1 + 200 * 0.08  # one more inf2.xlarge and its 200 GiB gp3 root volume
    assert f"| NeuronNodeGroup genai-dev-neuron | ${730 * 0.758 + 200 * 0.08:,.2f} | ${2 * delta:,.2f} | +${delta:,.2f} |" in pr_comment
    assert f"| **+${delta:,.2f}** |" in pr_comment


def test_worktrees_are_removed_and_the_working_tree_untouched(pr_comment, repo):
    with pytest.raises(RevisionError, match="Pulumi.dev.yaml does not exist at HEAD~3"):
        render_revision(repo, "HEAD~3", "dev", repo / "Pulumi.dev.yaml")
    with pytest.raises(RevisionError, match=r"(?s)failed \(exit 2\).*genai-platform:neuron.desiredSize = 7"):
        render_revision(repo, "HEAD~2", "dev", repo / "Pulumi.dev.yaml")
    with pytest.raises(RevisionError, match="unknown git revision 'nope'"):
        render_revision(repo, "nope", "dev", repo / "Pulumi.dev.yaml")
    assert git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1
    assert git(repo, "status", "--porcelain") == ""


def test_bad_working_tree_config_still_removes_the_worktree(pr_comment, repo):
    bad = repo / "Pulumi.bad.yaml"
    bad.write_text("config:\n  aws:region: mars-1\n")
    try:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        proc = subprocess.run([sys.executable, "-m", "tools.preview", "dev", "--stack-file", str(bad), "--diff", "HEAD~1"],
                              cwd=repo, env=env, capture_output=True, text=True, timeout=300)
    finally:
        bad.unlink()
    assert proc.returncode == 2 and "aws:region = 'mars-1'" in proc.stderr and "Traceback" not in proc.stderr
    assert git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1


def entry(urn: str, type_: str, inputs: dict, deps=()) -> dict:
    return {"urn": urn, "type": type_, "name": urn.rsplit("::", 1)[-1], "parent": "p", "custom": True,
            "inputs": inputs, "dependencies": list(deps)}


def cost(total: float, **components: float) -> dict:
    return {"monthlyTotal": total, "byComponent": components}


def test_report_text_and_markdown_from_entries():
    deployment = "kubernetes:apps/v1:Deployment"
    old = [entry("urn::web", deployment, {"metadata": {"name": "web", "namespace": "genai"}, "spec": {"replicas": 1}}),
           entry("urn::gone", "aws:kms/key:Key", {"description": "old"}),
           entry("urn::role", "aws:iam/rolePolicy:RolePolicy", {"policy": '{"Version": "2012-10-17", "Statement": []}'})]
    new = [entry("urn::web", deployment, {"metadata": {"name": "web", "namespace": "genai"}, "spec": {"replicas": 3}}),
           entry("urn::bucket", "aws:s3/bucket:Bucket", {"bucket": "b"}),
           entry("urn::role", "aws:iam/rolePolicy:RolePolicy",
                 {"policy": '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow"}]}'})]
    report = DiffReport("dev", "main", "0123456789abcdef", new, cost(12.5, App=12.5), old, cost(10.0, App=10.0))
    report.changes = compare(old, new)
    assert [(c.status, c.name) for c in report.changes] == [
        ("added", "bucket"), ("removed", "gone"), ("changed", "role"), ("changed", "web")]
    text = report.text()
    assert "Resources: 3 -> 3 (1 added, 1 removed, 2 changed, 0 unchanged)" in text
    assert "Monthly cost: $10.00 -> $12.50 (+$2.50)" in text
    assert "-  replicas: 1\n" in text.replace("    ", "", 1) or "-  replicas: 1" in text
    assert "+    - Effect: Allow" in text  # JSON policies are diffed as YAML, line by line
    md = report.markdown()
    assert "| App | $10.00 | $12.50 | +$2.50 |" in md and "| `aws:kms/key:Key` | 1 | 0 |" in md
    assert "<details><summary><code>kubernetes:apps/v1:Deployment</code> web</summary>" in md
    assert "```diff" in md and "```yaml" in md and "- <code>aws:kms/key:Key</code> gone" in md


def test_report_when_the_old_revision_fails():
    report = DiffReport("dev", "HEAD~1", None, [], cost(5.0), error="the program at HEAD~1 failed (exit 2):\nerror: bad")
    assert "The old revision could not be rendered: the program at HEAD~1 failed" in report.text()
    md = report.markdown()
    assert "**The old revision could not be rendered**" in md and "error: bad" in md and "$5.00/month" in md
