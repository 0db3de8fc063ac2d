"""`python -m tools.preview`: summary, artifacts, masking, determinism, bad stacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from components.settings import load_stack_settings
from tools.offline.records import MASK, ResourceRecord, StackRun
from tools.preview import render
from tools.preview.masking import secret_like
from tools.preview.model import make_preview
from tools.preview.summary import Summary, services

PLACEHOLDER = "offline-placeholder-hfToken"
POLICY_TYPES = ("aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy",
                "aws:s3/bucketPolicy:BucketPolicy")


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([sys.executable, "-m", "tools.preview", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def preview_of(run: StackRun, project_dir: Path):
    settings = load_stack_settings(run.stack, project_dir)
    return make_preview(run, region=settings.region, pricing=settings.pricing)


@pytest.fixture(scope="session")
def dev_preview(stack_runs, project_dir):
    return preview_of(stack_runs["dev"], project_dir)


@pytest.fixture(scope="session")
def out_dir(dev_preview, tmp_path_factory) -> Path:
    """The dev artifacts written in this process, over a directory holding stale files."""
    out = tmp_path_factory.mktemp("preview-in-process")
    for stale in ("manifests/genai/deployment-gone.yaml", "iam/gone.json", "config/gone/config.yaml"):
        (out / stale).parent.mkdir(parents=True, exist_ok=True)
        (out / stale).write_text("stale")
    (out / "notes.txt").write_text("not ours")
    render.write(out, dev_preview.files())
    return out


@pytest.fixture(scope="session")
def cli_run(project_dir, tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    """`python -m tools.preview dev --out DIR` in a fresh process (its own hash seed)."""
    out = tmp_path_factory.mktemp("preview-cli")
    proc = cli("dev", "--out", str(out), cwd=project_dir)
    assert proc.returncode == 0, proc.stderr
    return proc, out


def files_of(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# summary

def test_summary_tree_holds_every_resource_under_its_component(dev_preview, stack_runs):
    text = dev_preview.summary.text()
    tree = text.split("Resources by component\n", 1)[1].split("\n\n", 1)[0].splitlines()
    run = stack_runs["dev"]
    assert tree[0].strip() == "genai-platform-dev  [pulumi:pulumi:Stack]"
    assert len(tree) == len(run.resources) + 1
    for top in (r for r in run.resources if r.parent not in {x.urn for x in run.resources}):
        assert f"── {top.name}  [{top.type}]" in text
    neuron = next(i for i, line in enumerate(tree) if "genai-dev-neuron  [genai:neuron:NeuronNodeGroup]" in line)
    assert "genai-dev-neuron-ng  [aws:eks/nodeGroup:NodeGroup]" in "\n".join(tree[neuron:neuron + 10])
    assert "Counts by type" in text and f"{len(run.resources):4d}  total" in text


def test_summary_exposure_lines(dev_preview, stack_runs):
    text = dev_preview.summary.text()
    services = [s for s in stack_runs["dev"].of_type("kubernetes:core/v1:Service")
                if s.inputs["metadata"].get("namespace") == "genai"]
    assert services, "the dev stack exposes services in genai"
    for service in services:
        name, port = service.inputs["metadata"]["name"], service.inputs["spec"]["ports"][0]["port"]
        assert f"kubectl port-forward -n genai svc/{name} " in text and f":{port}" in text
    # the workshop page's local ports: open-webui on 3000, so langfuse moves to 3001
    if {"open-webui", "langfuse"} <= {s.inputs["metadata"]["name"] for s in services}:
        assert "svc/open-webui 3000:80" in text and "svc/langfuse 3001:3000" in text
    # The front door: its Ingresses, each URL with what protects it, and the Helm release it cannot see
    assert "Ingress genai/front-door-chat hosts chat.genai-dev.example.com" in text
    assert ("Front door URL https://chat.genai-dev.example.com -> open-webui: TLS (HTTP redirected to HTTPS), "
            "internet-facing ALB, allow-list 203.0.113.0/24, app login") in text
    assert "Front door URL https://traces.genai-dev.example.com -> langfuse:" in text
    assert ("Helm release kube-system/aws-load-balancer-controller (chart aws-load-balancer-controller 3.5.0): its own "
            "objects (Deployment, webhook, RBAC, CRDs) are rendered by Helm at `pulumi up` and are not visible") in text
    assert ("EKS API endpoint genai-dev: public only from PLACEHOLDER-replace-with-your-egress-ip/32, and private "
            "inside the VPC; WARNING: PLACEHOLDER-replace-with-your-egress-ip/32 is a placeholder, set the IP "
            "`pulumi up` runs from before deploying: pulumi config set --path 'cluster.publicAccessCidrs[0]' "
            "<your egress IP>/32") in text
    assert "Idling the Neuron group at 0 nodes saves" in text


def test_prod_endpoint_is_open_only_to_the_ci_runners(stack_runs, project_dir):
    text = preview_of(stack_runs["prod"], project_dir).summary.text()
    assert "EKS API endpoint genai-prod: public only from PLACEHOLDER-replace-with-your-ci-runner-egress-ip/32" in text
    assert "is a placeholder, set the IP `pulumi up` runs from before deploying" in text


def test_private_only_endpoint_says_where_pulumi_up_must_run(run_with, project_dir):
    run = run_with("dev", {"genai-platform:cluster": {"publicAccessCidrs": []}})
    text = preview_of(run, project_dir).summary.text()
    assert "EKS API endpoint genai-dev: private only: reachable from inside the VPC" in text
    assert "`pulumi up` must run there too (cluster.deployerInVpc, checked by preflight)" in text
    assert "WARNING" not in text


def test_load_balancer_services_are_listed():
    meta = {"namespace": "genai", "name": "web"}
    entry = {"urn": "u", "type": "kubernetes:core/v1:Service", "name": "web", "parent": "p", "custom": True,
             "inputs": {"metadata": meta, "spec": {"type": "LoadBalancer", "ports": [{"port": 443}],
                                                   "loadBalancerSourceRanges": ["198.51.100.0/24"]}},
             "dependencies": []}
    cost = {"monthlyTotal": 0, "currency": "USD", "hoursPerMonth": 730, "region": "us-east-1", "byComponent": {},
            "lines": [], "assumptions": [], "notes": [], "neuronIdle": None}
    text = Summary("t", "us-east-1", [entry], cost, {}, set()).text()
    assert "Service genai/web (LoadBalancer) ports 443, open to 198.51.100.0/24" in text
    assert services([entry], "genai")[0].command == "kubectl port-forward -n genai svc/web 3000:443"


def test_markdown_summary(dev_preview):
    md = dev_preview.summary.markdown()
    assert md.startswith("# Preview of stack `dev`")
    for heading in ("## Exposure", "## Monthly cost estimate", "## Resources by component", "## Counts by type"):
        assert heading in md
    assert "| service | type | ports | reach it with |" in md
    assert "<details><summary>Cost lines</summary>" in md and "| **total** |" in md


# artifacts

def test_artifacts_written_and_nothing_else(out_dir, stack_runs):
    run = stack_runs["dev"]
    files = set(files_of(out_dir)) - {"notes.txt"}
    manifests = {f for f in files if f.startswith("manifests/")}
    iam = {f for f in files if f.startswith("iam/")}
    config = {f for f in files if f.startswith("config/")}
    rules = {f"rules/{r.inputs['metadata']['namespace']}-{r.inputs['metadata']['name']}.yaml"
             for r in run.of_type("kubernetes:monitoring.coreos.com/v1:PrometheusRule")}
    assert files == {"resources.json", "cost.json", "summary.md", "policy.json"} | manifests | iam | config | rules
    assert len(manifests) == len(run.kubernetes_objects())
    documents = sum(1 for r in run.resources if r.type in POLICY_TYPES
                    for key in ("assumeRolePolicy", "policy") if r.inputs.get(key))
    assert len(iam) == documents
    assert {f"iam/{r.name}.json" for r in run.of_type("aws:iam/role:Role")} <= iam
    keys = [(m.inputs["metadata"]["name"], k) for m in run.of_type("kubernetes:core/v1:ConfigMap") for k in m.inputs["data"]]
    assert config == {f"config/{name}/{key}" for name, key in keys}
    assert (out_dir / "notes.txt").read_text() == "not ours"  # only the generated part is replaced


def test_manifests_are_the_objects_as_applied(out_dir, stack_runs):
    run = stack_runs["dev"]
    for obj in run.kubernetes_objects():
        _, module, kind = obj.type.split(":")
        group, version = module.split("/")
        meta = obj.inputs["metadata"]
        folder = meta.get("namespace") or "_cluster"
        doc = yaml.safe_load((out_dir / "manifests" / folder / f"{kind.lower()}-{meta['name']}.yaml").read_text())
        assert doc["apiVersion"] == (version if group == "core" else f"{group}/{version}")
        assert doc["kind"] == kind and doc["metadata"]["name"] == meta["name"]
        if kind == "Secret":
            for key in ("data", "stringData"):
                assert set((doc.get(key) or {}).values()) <= {MASK}
                assert set(doc.get(key) or {}) == set(obj.inputs.get(key) or {})
        elif kind != "ConfigMap":
            assert {k for k in doc if k not in ("apiVersion", "kind", "metadata")} == \
                   {k for k in obj.inputs if k not in ("apiVersion", "kind", "metadata")}
    litellm = out_dir / "config" / "litellm-config" / "config.yaml"
    if litellm.exists():
        assert "model_list" in yaml.safe_load(litellm.read_text())


def test_resources_json_and_iam_documents(out_dir, stack_runs):
    run = stack_runs["dev"]
    entries = json.loads((out_dir / "resources.json").read_text())
    assert [e["urn"] for e in entries] == sorted(r.urn for r in run.resources)
    assert set(entries[0]) == {"urn", "type", "name", "parent", "custom", "inputs", "dependencies"}
    provider = next(e for e in entries if e["type"] == "pulumi:providers:kubernetes")
    assert provider["inputs"]["kubeconfig"] == MASK
    for path in (out_dir / "iam").iterdir():
        document = json.loads(path.read_text())
        assert document["Version"] == "2012-10-17" and document["Statement"], path.name
    trust = json.loads((out_dir / "iam" / "genai-dev-neuron-role.json").read_text())
    assert trust["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
    cost = json.loads((out_dir / "cost.json").read_text())
    assert cost["monthlyTotal"] == pytest.approx(sum(cost["byComponent"].values()), abs=0.02)


def secret_values(run: StackRun) -> set[str]:
    values = {PLACEHOLDER}
    for r in run.resources:
        if r.type == "random:index/randomPassword:RandomPassword":
            values.add(r.outputs["result"])
        if r.type == "kubernetes:core/v1:Secret":
            values.update(v for key in ("data", "stringData") for v in (r.inputs.get(key) or {}).values() if secret_like(v))
    values.update(v for k, v in run.outputs.items() if k in run.secret_outputs and isinstance(v, str))
    return values


def test_no_secret_value_anywhere_in_the_output(out_dir, cli_run, dev_preview, stack_runs):
    values = secret_values(stack_runs["dev"])
    assert len(values) > 10
    texts = {name: data.decode() for name, data in files_of(out_dir).items()}
    texts["stdout"] = cli_run[0].stdout
    texts["markdown"] = dev_preview.summary.markdown()
    leaks = [(name, value[:12]) for name, text in texts.items() for value in values if value in text]
    assert leaks == []
    assert PLACEHOLDER not in "".join(texts.values())


def test_secrets_in_plain_kubernetes_fields_are_masked_and_reported():
    password = ResourceRecord("urn:p", "random:index/randomPassword:RandomPassword", "pw", "s", True, {"length": 24},
                              outputs={"result": "Zx81kq02PLm47aa0c93nd7eT"})
    config = ResourceRecord("urn:c", "kubernetes:core/v1:ConfigMap", "cm", "s", True, {
        "metadata": {"name": "cm", "namespace": "genai"},
        "data": {"app.ini": "password = Zx81kq02PLm47aa0c93nd7eT\ntoken = offline-placeholder-hfToken\n"}})
    secret = ResourceRecord("urn:s", "kubernetes:core/v1:Secret", "s", "s", True, {
        "metadata": {"name": "s", "namespace": "genai"}, "data": {"user": "cG9zdGdyZXM="}, "stringData": {"pw": "short"}})
    run = StackRun("t", [password, config, secret], {}, set())
    preview = make_preview(run, region="us-east-1", pricing={})
    files = preview.files()
    assert files["config/cm/app.ini"] == "password = [secret]\ntoken = [secret]\n"
    assert yaml.safe_load(files["manifests/genai/secret-s.yaml"])["data"] == {"user": MASK}
    assert "cG9zdGdyZXM=" not in "".join(files.values()) and "short" not in files["resources.json"]
    assert preview.summary.findings == ["kubernetes:core/v1:ConfigMap cm: inputs.data.app.ini"]
    assert "Warnings" in preview.summary.text()


def test_two_runs_are_byte_identical(out_dir, cli_run, dev_preview):
    proc, cli_out = cli_run
    ours, theirs = files_of(out_dir), files_of(cli_out)
    ours.pop("notes.txt")
    assert sorted(ours) == sorted(theirs)
    assert [name for name in ours if ours[name] != theirs[name]] == []
    assert proc.stdout == dev_preview.summary.text()


# errors

def test_bad_stack_exits_2_with_the_settings_error(tmp_path, project_dir):
    bad = tmp_path / "Pulumi.bad.yaml"
    bad.write_text("config:\n  aws:region: us-east-1\n  genai-platform:neuron:\n"
                   "    instanceTypes: [inf2.xlarge]\n    minSize: 0\n    maxSize: 2\n    desiredSize: 5\n")
    proc = cli("bad", "--stack-file", str(bad), "--out", str(tmp_path / "out"), cwd=project_dir)
    assert proc.returncode == 2
    assert "genai-platform:neuron.desiredSize = 5" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert not (tmp_path / "out").exists()


def test_missing_stack_file_exits_2(capsys):
    from tools.preview.__main__ import main

    with pytest.raises(SystemExit) as exit_info:
        main(["no-such-stack"])
    assert exit_info.value.code == 2
    assert "Pulumi.no-such-stack.yaml not found" in capsys.readouterr().err
