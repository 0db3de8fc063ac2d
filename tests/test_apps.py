"""The seed services, their workloads' shared production shape, and the data stores."""

from __future__ import annotations

import re

import pytest

from components.settings import load_stack_settings
from rendered import containers, env, k8s, kind, workload, workloads

SEED_SERVICES = {"open-webui": (80, 8080), "litellm": (4000, 4000), "langfuse": (3000, 3000),
                 "vllm-llama3-2-1b": (8000, 8000), "custom-server": (5000, 5000)}


def test_seed_services_exist_with_ports(stack_run):
    for name, (port, target) in SEED_SERVICES.items():
        (service,) = k8s(stack_run, "Service", name)
        (p,) = service.inputs["spec"]["ports"]
        assert p["port"] == port, name
        (container,) = workload(stack_run, name).inputs["spec"]["template"]["spec"]["containers"]
        named = {cp["name"]: cp["containerPort"] for cp in container["ports"]}
        assert named[p["targetPort"]] == target, name
        assert service.inputs["spec"]["selector"] == {"app.kubernetes.io/name": name}
        assert service.inputs["spec"]["type"] == "ClusterIP"


def test_every_container_has_limits_probes_restricted_context_and_pinned_tag(stack_run):
    checked = 0
    for record in workloads(stack_run):
        pod = record.inputs["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
        for c in containers(record):
            checked += 1
            for part in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(c["resources"][part]), (c["name"], part)
            assert "livenessProbe" in c and "readinessProbe" in c, c["name"]
            sc = c["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False and sc["capabilities"] == {"drop": ["ALL"]}
            assert sc["runAsNonRoot"] is True
            image = c["image"]
            assert re.search(r":[\w][\w.-]*$", image) and not image.endswith((":latest", ":main")), image
    assert checked >= 10


def test_pdb_for_multi_replica_workloads(stack_runs):
    prod = stack_runs["prod"]
    pdbs = {p.inputs["metadata"]["name"] for p in k8s(prod, "PodDisruptionBudget")}
    assert {"litellm", "langfuse", "langfuse-worker", "open-webui"} <= pdbs
    assert "postgres" not in pdbs


def test_vllm_deployment_flags_neuron_and_cache(stack_run):
    settings = load_stack_settings(stack_run.stack)
    for model in settings.models:
        spec = workload(stack_run, model.service_name).inputs["spec"]
        pod = spec["template"]["spec"]
        (c,) = pod["containers"]
        # On the shared cache the compile-once entrypoint runs `vllm serve` (tests/test_scaling_cache_entry.py)
        assert c["command"] == ["python3", "/opt/genai/neuron_cache_entry.py"]
        artifacts, _ready, dashes, *argv = c["args"]
        assert dashes == "--" and argv[:2] == ["vllm", "serve"]
        args = argv[2:]
        flag = lambda f: args[args.index(f) + 1]  # noqa: E731
        assert args[0] == model.hf_model_id and flag("--served-model-name") == model.name
        assert flag("--tensor-parallel-size") == str(model.neuron_cores)
        assert c["resources"]["requests"]["aws.amazon.com/neuroncore"] == str(model.neuron_cores)
        assert c["resources"]["limits"]["aws.amazon.com/neuroncore"] == str(model.neuron_cores)
        blocks = -(-model.max_model_len // model.block_size) * model.max_num_seqs
        assert flag("--num-gpu-blocks-override") == str(blocks)
        assert "--device" not in args and "--override-neuron-config" not in args
        assert {"key": "aws.amazon.com/neuron", "operator": "Exists", "effect": "NoSchedule"} in pod["tolerations"]
        assert pod["nodeSelector"] == {"genai-platform/accelerator": "neuron"}
        variables = env(stack_run, model.service_name)
        assert artifacts.startswith("/cache/") and "NEURON_COMPILED_ARTIFACTS" not in variables
        assert variables["HF_TOKEN"]
        claim = next(v for v in pod["volumes"] if v["name"] == "cache")["persistentVolumeClaim"]["claimName"]
        (pvc,) = k8s(stack_run, "PersistentVolumeClaim", claim)
        assert pvc.inputs["spec"]["accessModes"] == ["ReadWriteMany"]  # the shared cache
        assert c["startupProbe"]["failureThreshold"] * c["startupProbe"]["periodSeconds"] >= 1800


def test_model_list_drives_model_servers(run_with):
    run = run_with("dev", {"genai-platform:models": [
        {"name": "llama-3.2-1b", "hfModelId": "meta-llama/Llama-3.2-1B-Instruct", "slug": "llama3-2-1b"},
        {"name": "qwen-0.5b", "hfModelId": "Qwen/Qwen2.5-0.5B-Instruct", "gated": False, "neuronCores": 1},
    ], "genai-platform:neuron": {"instanceTypes": ["inf2.xlarge"], "minSize": 0, "maxSize": 2, "desiredSize": 2}})
    args = workload(run, "vllm-qwen-0-5b").inputs["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[args.index("serve") + 1] == "Qwen/Qwen2.5-0.5B-Instruct"
    assert len(k8s(run, "Service", "vllm-llama3-2-1b")) == len(k8s(run, "Service", "vllm-qwen-0-5b")) == 1


def test_redis_eviction_policies(stack_run):
    def policy(name):
        (c,) = workload(stack_run, name).inputs["spec"]["template"]["spec"]["containers"]
        return c["args"][c["args"].index("--maxmemory-policy") + 1]

    assert policy("langfuse-redis") == "noeviction"
    assert policy("cache-redis") == "allkeys-lru"
    assert env(stack_run, "langfuse")["REDIS_HOST"].startswith("langfuse-redis.")
    assert env(stack_run, "litellm")["REDIS_HOST"].startswith("cache-redis.")


def test_stateful_stores_on_encrypted_gp3(stack_run):
    for name in ("postgres", "clickhouse", "langfuse-redis"):
        record = workload(stack_run, name)
        assert kind(record) == "StatefulSet"
        (template,) = record.inputs["spec"]["volumeClaimTemplates"]
        assert template["spec"]["storageClassName"] == "gp3"
        retained = load_stack_settings(stack_run.stack).retain_data
        assert record.inputs["spec"]["persistentVolumeClaimRetentionPolicy"] == {
            "whenDeleted": "Retain" if retained else "Delete", "whenScaled": "Retain"}
    assert env(stack_run, "langfuse")["CLICKHOUSE_CLUSTER_ENABLED"] == "false"


def test_hpa_from_settings(stack_run):
    autoscaling = load_stack_settings(stack_run.stack).gateway.autoscaling
    (hpa,) = k8s(stack_run, "HorizontalPodAutoscaler", "litellm")
    spec = hpa.inputs["spec"]
    assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "litellm"}
    assert (spec["minReplicas"], spec["maxReplicas"]) == (autoscaling.min_replicas, autoscaling.max_replicas)
    assert spec["metrics"][0]["resource"]["target"]["averageUtilization"] == autoscaling.target_cpu_percent
    assert "replicas" not in workload(stack_run, "litellm").inputs["spec"]


def test_reader_role_bound_to_group(stack_run):
    (role,) = k8s(stack_run, "Role", "genai-reader")
    assert role.inputs["rules"] == [{"apiGroups": [""], "resources": ["pods", "services"], "verbs": ["get", "list"]}]
    (binding,) = k8s(stack_run, "RoleBinding", "genai-reader")
    group = load_stack_settings(stack_run.stack).access.reader_group
    assert binding.inputs["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": group}]


@pytest.mark.parametrize("replicas,expect_redis", [(1, False), (2, True)])
def test_open_webui_scales_with_redis_and_no_local_volume(run_with, replicas, expect_redis):
    run = run_with("dev", {"genai-platform:openWebui": {"replicas": replicas}})
    variables = env(run, "open-webui")
    assert ("WEBSOCKET_REDIS_URL" in variables) is expect_redis
    assert variables["ENABLE_OLLAMA_API"] == "False" and variables["ENABLE_PERSISTENT_CONFIG"] == "False"
    assert variables["ENABLE_FORWARD_USER_INFO_HEADERS"] == "True"
    claims = k8s(run, "PersistentVolumeClaim")
    assert any(c.inputs["metadata"]["name"] == "open-webui-data" for c in claims) is (not expect_redis)


def test_arbitrary_uid_images_run_with_group_zero_and_volumes_on_their_own_group(stack_run):
    for name in ("open-webui",):
        pod = workload(stack_run, name).inputs["spec"]["template"]["spec"]["securityContext"]
        assert (pod["runAsUser"], pod["runAsGroup"], pod["fsGroup"]) == (1000, 0, 1000), name
    pod = workload(stack_run, "postgres").inputs["spec"]["template"]["spec"]["securityContext"]
    assert (pod["runAsUser"], pod["runAsGroup"], pod["fsGroup"]) == (999, 999, 999)
