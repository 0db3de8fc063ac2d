"""A LiteLLM key per client: the rendered key Job's script, run for real.

LiteLLM's virtual keys live in its database; LiteLLM's DB mode needs Prisma engines that cannot
be installed on this machine, so the key path is NOT run end to end here. What runs:

- the Job's script exactly as rendered (ConfigMap ``litellm-keys-script``, env ``GATEWAY_CLIENTS``
  and the client keys of Secret ``litellm-keys-clients``) against ``KeyAdminStub``, LiteLLM's
  admin API with the rules of litellm 1.106.2 that matter (tests/gateway/admin_stub.py): keys
  are created with the values Open WebUI and the agent server hold, re-runs are idempotent, a
  rotated key replaces the old one (which stops working) without touching the other client;
- the request bodies the script sends, validated by litellm's own ``GenerateKeyRequest`` /
  ``UpdateKeyRequest`` models;
- the script against the real proxy (DB-less): it authenticates with the master key, reaches the
  admin route, and fails loudly on the missing database instead of pretending.
The only change to the rendered Job is where the client key files are (a temporary directory
instead of the Secret's mount path) and the gateway URL (a loopback one).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from rendered import env as rendered_env
from rendered import container_env, k8s, secret_data
from tests.gateway.admin_stub import KeyAdminStub

JOB = "litellm-keys"


def _job(run):
    (job,) = k8s(run, "Job", JOB)
    return job.inputs["spec"]["template"]["spec"]


def _job_env(run) -> dict[str, str]:
    (container,) = _job(run)["containers"]
    return container_env(run, container)


def run_job(run, url: str, workdir: Path, keys: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The rendered Job's script with its rendered env; key files (and optionally other key values) in ``workdir``."""
    (container,) = _job(run)["containers"]
    (mount,) = [m for m in container["volumeMounts"] if m["name"] == "clients"]
    (script_map,) = k8s(run, "ConfigMap", f"{JOB}-script")
    script = workdir / "provision.py"
    script.write_text(next(iter(script_map.inputs["data"].values())))
    values = keys or secret_data(run, f"{JOB}-clients")
    for alias, value in values.items():
        (workdir / alias).write_text(value)
    variables = _job_env(run)
    clients = json.loads(variables["GATEWAY_CLIENTS"])
    for client in clients:
        assert client["key_file"].startswith(mount["mountPath"] + "/")
        client["key_file"] = str(workdir / Path(client["key_file"]).name)
    variables.update(LITELLM_URL=url, GATEWAY_CLIENTS=json.dumps(clients), READY_TIMEOUT_SECONDS="20",
                     HEARTBEAT_FILE=str(workdir / "beat"))
    return subprocess.run([sys.executable, str(script)], env={"PATH": os.environ["PATH"], **variables},
                          capture_output=True, text=True, timeout=120)


@pytest.fixture()
def admin(dev):
    with KeyAdminStub(_job_env(dev)["LITELLM_MASTER_KEY"]) as stub:
        yield stub


def _works(url: str, key: str) -> bool:
    response = httpx.post(f"{url}/v1/chat/completions", headers={"Authorization": f"Bearer {key}"},
                          json={"model": "chat", "messages": [{"role": "user", "content": "hi"}]}, timeout=10)
    return response.status_code == 200


def test_each_client_gets_the_key_it_holds_with_its_limits(dev, admin, tmp_path):
    proc = run_job(dev, admin.url, tmp_path)
    assert proc.returncode == 0, proc.stderr
    webui_key = rendered_env(dev, "open-webui")["OPENAI_API_KEYS"].split(";")[0]
    agent_key = rendered_env(dev, "custom-server")["LITELLM_API_KEY"]
    master = rendered_env(dev, "litellm")["LITELLM_MASTER_KEY"]
    assert {k: row["key_alias"] for k, row in admin.keys.items()} == {webui_key: "open-webui", agent_key: "custom-server"}
    assert master not in admin.keys
    assert _works(admin.url, webui_key) and _works(admin.url, agent_key)
    for value in (webui_key, agent_key, master):
        assert value not in proc.stdout + proc.stderr, "the script never prints a key"
    assert proc.stdout.splitlines() == ["open-webui: created", "custom-server: created"]


def test_limits_from_settings_reach_the_key(run_with, tmp_path):
    run = run_with("dev", {"genai-platform:gateway": {"clients": {"openWebui": {
        "rpmLimit": 600, "tpmLimit": 200000, "maxParallelRequests": 20, "maxBudgetUsd": 50, "budgetDuration": "1d"}}}})
    with KeyAdminStub(_job_env(run)["LITELLM_MASTER_KEY"]) as admin:
        assert run_job(run, admin.url, tmp_path).returncode == 0
        rows = {row["key_alias"]: row for row in admin.keys.values()}
    assert {k: rows["open-webui"].get(k) for k in ("rpm_limit", "tpm_limit", "max_parallel_requests", "max_budget",
                                                     "budget_duration")} == {
        "rpm_limit": 600, "tpm_limit": 200000, "max_parallel_requests": 20, "max_budget": 50.0, "budget_duration": "1d"}
    assert "rpm_limit" not in rows["custom-server"], "the agent server's key keeps its own (unset) limits"


def test_rerun_is_idempotent_and_rotation_revokes_only_the_old_key(dev, admin, tmp_path):
    assert run_job(dev, admin.url, tmp_path).returncode == 0
    before = dict(admin.keys)
    again = run_job(dev, admin.url, tmp_path)
    assert again.returncode == 0 and again.stdout.splitlines() == ["open-webui: updated", "custom-server: updated"]
    assert admin.keys.keys() == before.keys()

    keys = secret_data(dev, f"{JOB}-clients")
    old, rotated = keys["open-webui"], "sk-" + "r" * 45
    (tmp_path / "rotated").mkdir()
    proc = run_job(dev, admin.url, tmp_path / "rotated", keys={**keys, "open-webui": rotated})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["open-webui: created", "custom-server: updated"]
    assert not _works(admin.url, old) and _works(admin.url, rotated)
    assert _works(admin.url, keys["custom-server"])


def test_a_gateway_that_never_gets_ready_fails_the_job(dev, admin, tmp_path):
    admin.ready = False
    proc = run_job(dev, admin.url, tmp_path)
    assert proc.returncode == 1 and "not ready after 20s" in proc.stderr
    assert not admin.keys


def test_request_bodies_are_valid_for_litellm(dev, admin, tmp_path):
    """What the script sends parses with litellm's own request models (no unknown or mistyped field)."""
    assert run_job(dev, admin.url, tmp_path).returncode == 0
    bodies = {r.path: r.json for r in admin.requests if r.path in ("/key/update", "/key/generate")}
    check = (
        "import json, sys\n"
        "from litellm.proxy._types import GenerateKeyRequest, UpdateKeyRequest\n"
        "bodies = json.loads(sys.stdin.read())\n"
        "GenerateKeyRequest.model_validate(bodies['/key/generate'], strict=False)\n"
        "UpdateKeyRequest.model_validate(bodies['/key/update'], strict=False)\n"
        "extra = set(bodies['/key/generate']) - set(GenerateKeyRequest.model_fields)\n"
        "assert not extra, extra\n"
    )
    proc = subprocess.run([sys.executable, "-c", check], input=json.dumps(bodies), capture_output=True, text=True,
                          timeout=300, env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"})
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_against_the_real_proxy_without_a_database_the_job_fails_loudly(dev, dev_gateway, tmp_path):
    """The real LiteLLM accepts the master key on the admin route and refuses for want of a
    database (not 401/404): the production Job needs the gateway's PostgreSQL, as designed."""
    proc = run_job(dev, dev_gateway.url, tmp_path)
    assert proc.returncode == 1
    assert "/key/update answered" in proc.stderr
    assert " 401" not in proc.stderr and " 404" not in proc.stderr
    assert "database" in proc.stderr.lower() or "db" in proc.stderr.lower(), proc.stderr
