"""The agent server's deployment: its ECR repository and image build, the Deployment's env contract
(agent_server/config.py), probes, PDB, HPA and who it may talk to."""

from __future__ import annotations

import json
import shutil

import pytest

from components.apps.agent_image import SOURCE_DIR, content_tag, context_files
from components.settings import load_stack_settings
from components.settings.loading import read_stack_file
from netpol_graph import cluster_of
from rendered import env, gateway_config, k8s, secret_data, workload
from tools.offline.engine import PROJECT_DIR
from tools.offline.mocks import docker_build_image

REPOSITORY = "aws:ecr/repository:Repository"
IMAGE = "docker-build:index:Image"


def the_image(run):
    (image,) = run.of_type(IMAGE)
    return image


def test_the_stack_owns_an_immutable_scanned_encrypted_repository(stack_run):
    (repo,) = stack_run.of_type(REPOSITORY)
    assert repo.inputs["name"] == f"genai-{stack_run.stack}-agent-server"
    assert repo.inputs["imageTagMutability"] == "IMMUTABLE"
    assert repo.inputs["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repo.inputs["encryptionConfigurations"] == [{"encryptionType": "KMS"}]
    (lifecycle,) = stack_run.of_type("aws:ecr/lifecyclePolicy:LifecyclePolicy")
    assert lifecycle.inputs["repository"] == repo.outputs["name"]
    (rule,) = json.loads(lifecycle.inputs["policy"])["rules"]
    assert rule["selection"]["tagStatus"] == "tagged" and rule["selection"]["countType"] == "imageCountMoreThan"
    assert rule["action"] == {"type": "expire"}


def test_the_image_is_built_from_agent_server_and_pushed_with_its_content_tag(stack_run):
    image, (repo,) = the_image(stack_run), stack_run.of_type(REPOSITORY)
    inputs = image.inputs
    assert inputs["context"] == {"location": "./agent_server"}
    assert inputs["push"] is True and inputs["buildOnPreview"] is False
    assert inputs["platforms"] == ["linux/amd64"]  # dev and prod run m6i (x86_64) system nodes
    url = repo.outputs["repositoryUrl"]
    assert inputs["tags"] == [f"{url}:{content_tag(SOURCE_DIR, ('linux/amd64',))}"]
    (registry,) = inputs["registries"]
    assert registry["address"] == url and registry["username"] == "AWS" and registry["password"]
    # the pods run exactly the pushed build: tag and digest
    (container,) = workload(stack_run, "custom-server").inputs["spec"]["template"]["spec"]["containers"]
    assert container["image"] == image.outputs["ref"] == f"{inputs['tags'][0]}@{image.outputs['digest']}"
    assert stack_run.outputs["agentServerImage"] == container["image"]


def test_graviton_system_nodes_add_an_arm64_build(run_with):
    cluster = read_stack_file(PROJECT_DIR / "Pulumi.dev.yaml")[0]["genai-platform:cluster"]
    graviton = {"instanceTypes": ["m7g.xlarge"], "minSize": 2, "maxSize": 4, "desiredSize": 2}
    run = run_with("dev", {"genai-platform:cluster": {**cluster, "systemNodes": graviton}})
    image = the_image(run)
    assert image.inputs["platforms"] == ["linux/amd64", "linux/arm64"]
    assert image.inputs["tags"][0].endswith(":" + content_tag(SOURCE_DIR, ("linux/amd64", "linux/arm64")))


def test_content_tag_follows_the_files_the_build_sends(tmp_path):
    copy = tmp_path / "agent_server"
    shutil.copytree(SOURCE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    tag = content_tag(copy)
    assert tag == content_tag(SOURCE_DIR) and tag.startswith("src-")  # the checkout's path is not part of it
    # what .dockerignore keeps out of the context does not change the image, so not its tag
    (copy / "tests" / "test_config.py").write_text("# edited test\n")
    (copy / "agents" / "__pycache__").mkdir(exist_ok=True)
    (copy / "agents" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    assert content_tag(copy) == tag
    assert not any("tests" in p.relative_to(copy).parts for p in context_files(copy))
    # a source file, the pinned requirements or the Dockerfile does
    for name in ("app.py", "requirements.txt", "Dockerfile"):
        path = copy / name
        original = path.read_bytes()
        path.write_bytes(original + b"\n# changed\n")
        assert content_tag(copy) != tag, name
        path.write_bytes(original)
    assert content_tag(copy) == tag
    (copy / "tools" / "new_tool.py").write_text("X = 1\n")
    assert content_tag(copy) != tag


def test_an_image_from_settings_builds_nothing(run_with):
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/agents/agent-server:1.4.0"
    run = run_with("dev", {"genai-platform:agentServer": {"image": image}})
    assert not run.of_type(IMAGE) and not run.of_type(REPOSITORY)
    (container,) = workload(run, "custom-server").inputs["spec"]["template"]["spec"]["containers"]
    assert container["image"] == image


def test_the_env_contract_resolves_to_the_platforms_secrets(stack_run):
    agent, litellm, langfuse, pg = (env(stack_run, n) for n in ("custom-server", "litellm", "langfuse", "postgres"))
    assert agent["AGENT_SERVER_API_KEY"] == env(stack_run, "open-webui")["OPENAI_API_KEYS"].split(";")[1]
    assert agent["LITELLM_BASE_URL"] == "http://litellm.genai.svc.cluster.local:4000"
    # its own client key from the gateway keys' Secret (limits per client), never the master key
    assert agent["LITELLM_API_KEY"] == secret_data(stack_run, "litellm-keys-clients")["custom-server"]
    assert agent["LITELLM_API_KEY"] != litellm["LITELLM_MASTER_KEY"]
    served = [m["model_name"] for m in gateway_config(stack_run)["model_list"]]
    assert agent["AGENT_MODEL"] in served
    assert agent["DATABASE_URL"] == (
        f"postgresql://agentserver:{pg['AGENTSERVER_DB_PASSWORD']}@postgres.genai.svc.cluster.local:5432/agentserver")
    assert agent["LANGFUSE_HOST"] == "http://langfuse.genai.svc.cluster.local:3000"
    assert agent["LANGFUSE_PUBLIC_KEY"] == langfuse["LANGFUSE_INIT_PROJECT_PUBLIC_KEY"]
    assert agent["LANGFUSE_SECRET_KEY"] == langfuse["LANGFUSE_INIT_PROJECT_SECRET_KEY"]
    assert agent["PORT"] == "5000" and agent["AGENT_HISTORY_RUNS"] == "20"
    (container,) = workload(stack_run, "custom-server").inputs["spec"]["template"]["spec"]["containers"]
    secret_refs = {e["name"] for e in container["env"] if "valueFrom" in e}
    assert secret_refs == {"AGENT_SERVER_API_KEY", "LITELLM_API_KEY", "DATABASE_URL",
                           "LANGFUSE_PUBLIC_KEY", "LANGFUSE_SECRET_KEY"}


def test_an_agent_model_the_gateway_does_not_serve_is_refused(run_with):
    import pulumi  # noqa: PLC0415

    with pytest.raises(pulumi.RunError, match=r"genai-platform:agentServer\.model = 'gpt-9'.*a model the gateway serves"):
        run_with("dev", {"genai-platform:agentServer": {"model": "gpt-9"}})


def test_probes_security_and_resources(stack_run):
    spec = workload(stack_run, "custom-server").inputs["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    assert container["livenessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "http"}
    assert container["ports"] == [{"name": "http", "containerPort": 5000, "protocol": "TCP"}]
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True and security["capabilities"] == {"drop": ["ALL"]}
    assert spec["securityContext"]["runAsUser"] == 10001 and spec["securityContext"]["runAsNonRoot"] is True
    assert "USER 10001:10001" in (SOURCE_DIR / "Dockerfile").read_text()
    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
    resources = load_stack_settings(stack_run.stack).agent_server.resources
    assert container["resources"]["requests"] == {"cpu": resources.cpu, "memory": resources.memory}
    assert spec["automountServiceAccountToken"] is False


def test_two_replicas_an_hpa_on_cpu_and_a_pdb(stack_run, run_with):
    (hpa,) = k8s(stack_run, "HorizontalPodAutoscaler", "custom-server")
    spec = hpa.inputs["spec"]
    assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "custom-server"}
    assert spec["minReplicas"] == 2 and spec["maxReplicas"] >= 2
    assert spec["metrics"][0]["resource"]["name"] == "cpu"
    assert "replicas" not in workload(stack_run, "custom-server").inputs["spec"]  # the HPA owns the count
    (pdb,) = k8s(stack_run, "PodDisruptionBudget", "custom-server")
    assert pdb.inputs["spec"] == {"maxUnavailable": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": "custom-server"}}}
    fixed = run_with("dev", {"genai-platform:agentServer": {"autoscaling": None}})
    assert not k8s(fixed, "HorizontalPodAutoscaler", "custom-server")
    assert workload(fixed, "custom-server").inputs["spec"]["replicas"] == 2


def test_it_talks_to_exactly_litellm_langfuse_and_postgres_and_only_open_webui_calls_it(stack_run):
    edges = cluster_of(stack_run).edges()
    out = {(dst, port) for src, dst, port in edges if src == "custom-server"}
    assert out == {("litellm", "4000/TCP"), ("langfuse", "3000/TCP"), ("postgres", "5432/TCP"),
                   ("kube-dns", "53/UDP"), ("kube-dns", "53/TCP")}
    assert {src for src, dst, _ in edges if dst == "custom-server"} == {"open-webui"}


def test_the_offline_engine_refuses_an_ecr_push_without_credentials():
    inputs = {"context": {"location": "./agent_server"}, "push": True,
              "tags": ["123456789012.dkr.ecr.us-east-1.amazonaws.com/genai-dev-agent-server:src-1a2b"]}
    with pytest.raises(ValueError, match="no basic auth credentials"):
        docker_build_image("image", dict(inputs))
    with pytest.raises(ValueError, match="invalid reference format"):
        docker_build_image("image", {**inputs, "tags": ["123456789012.dkr.ecr.us-east-1.amazonaws.com/repo"]})
    auth = [{"address": "123456789012.dkr.ecr.us-east-1.amazonaws.com/genai-dev-agent-server",
             "username": "AWS", "password": "token"}]
    _, state = docker_build_image("image", {**inputs, "registries": auth})
    assert state["ref"] == f"{inputs['tags'][0]}@{state['digest']}" and state["digest"].startswith("sha256:")
    _, local = docker_build_image("image", {**inputs, "push": False})
    assert local["digest"] == "" and local["ref"] == inputs["tags"][0]
