"""Behavioural checks on the parsed GitHub Actions workflows in .github/workflows.

The fork-PR workflow has no secrets and no write permissions, every action is pinned to a
full commit SHA, prod deploys only after dev behind an environment, OIDC where AWS is used.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from workflow_files import (
    DEPLOY_WORKFLOW,
    PR_COMMENT_WORKFLOW,
    PR_WORKFLOW,
    PREVIEW_WORKFLOW,
    REPO_ROOT,
    WORKFLOW_FILES,
    WORKFLOWS_DIR,
    job_steps,
    load_workflow,
    permission_values,
    triggers_of,
)

SHA_PINNED = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"#\s*v\d+\.\d+\.\d+\b")
AWS_CREDENTIALS_ACTION = "aws-actions/configure-aws-credentials"


def _uses_lines(path: Path) -> list[tuple[int, str, str]]:
    """(line number, action ref, trailing comment) for each `uses:` line."""
    out = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        m = re.match(r"^\s*(?:-\s+)?uses:\s*(['\"]?)([^\s'\"#]+)\1\s*(#.*)?$", line)
        if m:
            out.append((lineno, m.group(2), m.group(3) or ""))
    return out


def test_workflow_files_exist() -> None:
    names = {p.name for p in WORKFLOW_FILES}
    for required in (
        PR_WORKFLOW,
        PR_COMMENT_WORKFLOW,
        PREVIEW_WORKFLOW,
        DEPLOY_WORKFLOW,
    ):
        assert required.name in names, f"missing {required.relative_to(REPO_ROOT)}"


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_top_level_permissions_are_empty_or_read(path: Path) -> None:
    workflow = load_workflow(path)
    assert "permissions" in workflow, f"{path.name}: set top-level permissions: {{}}"
    for value in permission_values(workflow["permissions"]):
        assert value in ("read", "none", "read-all"), (
            f"{path.name}: top-level permissions grant {value!r}; grant writes per job"
        )


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_every_job_declares_permissions(path: Path) -> None:
    for job_id, job in load_workflow(path)["jobs"].items():
        assert "permissions" in job, (
            f"{path.name}: job {job_id!r} has no permissions block"
        )


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_commit_sha(path: Path) -> None:
    workflow = load_workflow(path)
    refs = []
    for job_id, job in workflow["jobs"].items():
        if "uses" in job:  # reusable workflow call
            refs.append((job_id, job["uses"]))
        for step in job.get("steps", []) or []:
            if "uses" in step:
                refs.append((job_id, step["uses"]))
    assert refs, f"{path.name}: no actions used?"
    for job_id, ref in refs:
        if ref.startswith("./"):
            continue  # local action, versioned with this repository
        assert SHA_PINNED.match(ref), (
            f"{path.name}: job {job_id!r} uses {ref!r}, not pinned to a 40-hex commit SHA"
        )
    # Each pinned line carries the human-readable version it corresponds to.
    lines = _uses_lines(path)
    assert len(lines) == len(refs), f"{path.name}: could not match every uses: line"
    for lineno, ref, comment in lines:
        if ref.startswith("./"):
            continue
        assert VERSION_COMMENT.search(comment), (
            f"{path.name}:{lineno}: {ref} needs a '# vX.Y.Z' comment"
        )


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_checkout_does_not_persist_credentials(path: Path) -> None:
    for job_id, step in job_steps(load_workflow(path)):
        if str(step.get("uses", "")).startswith("actions/checkout@"):
            assert (step.get("with") or {}).get("persist-credentials") is False, (
                f"{path.name}: job {job_id!r} checkout must set persist-credentials: false"
            )


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_no_expressions_inside_run_scripts(path: Path) -> None:
    # github context goes through env:, never straight into a shell script.
    for job_id, step in job_steps(load_workflow(path)):
        script = step.get("run")
        if script is not None:
            assert "${{" not in str(script), (
                f"{path.name}: job {job_id!r} step {step.get('name')!r} "
                "interpolates an expression into run:; pass it via env:"
            )


def test_pr_workflow_is_safe_for_forks() -> None:
    workflow = load_workflow(PR_WORKFLOW)
    text = PR_WORKFLOW.read_text(encoding="utf-8")
    triggers = triggers_of(workflow)
    assert "pull_request" in triggers
    assert "pull_request_target" not in triggers
    assert not re.search(r"\bsecrets\s*\.|\bsecrets\s*\[", text), (
        "pr.yml runs for fork PRs and must not reference secrets"
    )
    assert "id-token" not in text
    grants = list(permission_values(workflow.get("permissions")))
    for job in workflow["jobs"].values():
        grants.extend(permission_values(job.get("permissions")))
    assert grants, "pr.yml must declare permissions"
    assert all("write" not in g for g in grants), f"pr.yml grants write: {grants}"

    steps = [step for _, step in job_steps(workflow)]
    checkout = next(
        s for s in steps if str(s.get("uses", "")).startswith("actions/checkout@")
    )
    assert (checkout.get("with") or {}).get("fetch-depth") == 0, (
        "pr.yml checkout needs fetch-depth: 0 so origin/<base branch> exists for --diff"
    )
    runs = "\n".join(str(s.get("run", "")) for s in steps)
    assert "make test" in runs
    assert "python -m tools.preview dev --diff" in runs
    assert "--format markdown" in runs
    assert any(
        str(s.get("uses", "")).startswith("actions/upload-artifact@") for s in steps
    ), "pr.yml must hand the preview to pr-comment.yml as an artifact"


def test_pr_comment_workflow_treats_artifact_as_data() -> None:
    workflow = load_workflow(PR_COMMENT_WORKFLOW)
    pr_name = load_workflow(PR_WORKFLOW)["name"]
    triggers = triggers_of(workflow)
    assert set(triggers) == {"workflow_run"}
    assert triggers["workflow_run"]["workflows"] == [pr_name]
    assert triggers["workflow_run"]["types"] == ["completed"]

    (job,) = workflow["jobs"].values()
    assert job["permissions"] == {"actions": "read", "pull-requests": "write"}
    uses = [str(s.get("uses", "")) for s in job["steps"]]
    assert not any(u.startswith("actions/checkout@") for u in uses), (
        "pr-comment.yml must not check out (potentially fork) PR code"
    )
    assert not any("run" in s for s in job["steps"]), (
        "pr-comment.yml must not run shell steps on untrusted artifact content"
    )
    assert any(u.startswith("actions/download-artifact@") for u in uses)
    assert any(u.startswith("actions/github-script@") for u in uses)
    download = next(
        s
        for s in job["steps"]
        if str(s.get("uses", "")).startswith("actions/download-artifact@")
    )
    assert download["with"]["run-id"] == "${{ github.event.workflow_run.id }}"


def test_preview_only_for_same_repo_prs_with_oidc() -> None:
    workflow = load_workflow(PREVIEW_WORKFLOW)
    assert "pull_request" in triggers_of(workflow)
    assert "pull_request_target" not in triggers_of(workflow)
    (job,) = workflow["jobs"].values()
    assert (
        job["if"].replace(" ", "")
        == "github.event.pull_request.head.repo.full_name==github.repository"
    )
    assert job["permissions"].get("id-token") == "write"
    assert sorted(job["strategy"]["matrix"]["stack"]) == ["dev", "prod"]

    steps = job["steps"]
    aws = [
        s
        for s in steps
        if str(s.get("uses", "")).startswith(AWS_CREDENTIALS_ACTION + "@")
    ]
    assert len(aws) == 1 and aws[0]["with"]["role-to-assume"].startswith("${{ vars.")
    assert "aws-access-key-id" not in aws[0]["with"]

    (pulumi,) = [
        s for s in steps if str(s.get("uses", "")).startswith("pulumi/actions@")
    ]
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["stack-name"] == "${{ matrix.stack }}"
    assert pulumi["with"]["comment-on-pr"] is True
    assert pulumi["with"]["policyPacks"] == "policies"
    assert pulumi["with"]["work-dir"] == "."


def test_deploy_dev_then_gated_prod() -> None:
    workflow = load_workflow(DEPLOY_WORKFLOW)
    triggers = triggers_of(workflow)
    assert set(triggers) == {"push"}
    assert triggers["push"]["branches"] == ["main"]

    concurrency = workflow["concurrency"]
    assert concurrency["group"]
    assert concurrency["cancel-in-progress"] is False

    jobs = workflow["jobs"]
    assert set(jobs) == {"dev", "prod"}
    prod = jobs["prod"]
    needs = prod.get("needs")
    needs = [needs] if isinstance(needs, str) else list(needs or [])
    assert "dev" in needs, "prod must run only after dev succeeded"
    environment = prod.get("environment")
    env_name = environment.get("name") if isinstance(environment, dict) else environment
    assert env_name == "production", "prod must be gated by the production environment"

    for stack, job in jobs.items():
        assert job["permissions"].get("id-token") == "write", f"{stack}: needs OIDC"
        (pulumi,) = [
            s
            for s in job["steps"]
            if str(s.get("uses", "")).startswith("pulumi/actions@")
        ]
        assert pulumi["with"]["command"] == "up"
        assert pulumi["with"]["stack-name"] == stack
        aws = [
            s
            for s in job["steps"]
            if str(s.get("uses", "")).startswith(AWS_CREDENTIALS_ACTION + "@")
        ]
        assert len(aws) == 1, f"{stack}: configure AWS credentials exactly once"
        assert aws[0]["with"]["role-to-assume"].startswith("${{ vars.")
        assert "aws-access-key-id" not in aws[0]["with"]
        # The AWS step must come before pulumi up.
        assert job["steps"].index(aws[0]) < job["steps"].index(pulumi)
        # Preflight (with those credentials) stops a runner that cannot reach the API endpoint
        # before `pulumi up` would wait for it
        (preflight,) = [s for s in job["steps"] if "tools.preflight" in str(s.get("run", ""))]
        assert preflight["env"]["STACK"] == stack
        assert job["steps"].index(aws[0]) < job["steps"].index(preflight) < job["steps"].index(pulumi)


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_aws_is_only_reached_through_oidc(path: Path) -> None:
    workflow = load_workflow(path)
    text = path.read_text(encoding="utf-8")
    assert "AWS_SECRET_ACCESS_KEY" not in text and "aws-secret-access-key" not in text
    for job_id, job in workflow["jobs"].items():
        uses_aws = any(
            str(s.get("uses", "")).startswith(AWS_CREDENTIALS_ACTION + "@")
            for s in job.get("steps", []) or []
        )
        if uses_aws:
            assert (job.get("permissions") or {}).get("id-token") == "write", (
                f"{path.name}: job {job_id!r} assumes an AWS role without id-token: write"
            )


def _pulumi_steps() -> list[tuple[str, str, dict, list[dict]]]:
    """(workflow, job id, pulumi/actions step, the job's steps) for every pulumi/actions step."""
    found = []
    for path in (PREVIEW_WORKFLOW, DEPLOY_WORKFLOW):
        for job_id, job in load_workflow(path)["jobs"].items():
            for step in job["steps"]:
                if str(step.get("uses", "")).startswith("pulumi/actions@"):
                    found.append((path.name, job_id, step, job["steps"]))
    return found


def _stacks_of(step: dict, workflow: str) -> list[str]:
    stack = step["with"]["stack-name"]
    if stack == "${{ matrix.stack }}":
        return load_workflow(WORKFLOWS_DIR / workflow)["jobs"]["preview"]["strategy"]["matrix"]["stack"]
    return [stack]


@pytest.mark.parametrize("workflow, job_id, pulumi, steps", _pulumi_steps(),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_pulumi_runs_the_pack_with_the_stacks_config(workflow, job_id, pulumi, steps, tmp_path):
    """The pack runs with policies/config.<stack>.json when the stack has one, and with the pack's
    own defaults when it has none (a new stack needs no file). pulumi/actions' input is
    `policyPackConfigs` (action.yml), one path per --policy-pack."""
    assert pulumi["with"]["policyPacks"] == "policies"
    match = re.fullmatch(r"\$\{\{ steps\.([\w-]+)\.outputs\.path \}\}", pulumi["with"].get("policyPackConfigs", ""))
    assert match, f"{workflow}:{job_id}: pass the stack's pack config (policyPackConfigs)"
    finder = next(s for s in steps if s.get("id") == match.group(1))
    assert steps.index(finder) < steps.index(pulumi)
    assert finder["env"]["STACK"] == pulumi["with"]["stack-name"]
    for stack in [*_stacks_of(pulumi, workflow), "staging"]:
        output = tmp_path / f"{stack}.out"
        output.write_text("")
        subprocess.run(["bash", "-e", "-c", finder["run"]], cwd=REPO_ROOT, check=True,
                       env={**os.environ, "STACK": stack, "GITHUB_OUTPUT": str(output)})
        config = REPO_ROOT / "policies" / f"config.{stack}.json"
        expected = f"path=policies/config.{stack}.json\n" if config.exists() else ""
        assert output.read_text() == expected, (workflow, job_id, stack)
