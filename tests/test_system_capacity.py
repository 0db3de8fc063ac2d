"""The system node group holds what is scheduled there: the platform's pods, the Helm releases' pods
(read from the values the releases render), the EKS add-ons' and the DaemonSets on every node; the
gateway's HPA has metrics (metrics-server) and a ceiling that fits."""

from __future__ import annotations

import pytest

from components import catalog
from components.k8s.quantity import cpu_millis, memory_bytes
from components.settings import SettingsError, parse_settings
from components.settings import capacity, load_stack_settings
from components.settings.capacity import node_shape, platform_requests
from components.settings.loading import read_stack_file
from components.system_pods import (
    cluster_autoscaler_pods,
    keda_pods,
    kube_prometheus_stack_pods,
    load_balancer_controller_pods,
    release_pods,
)
from tools.offline.engine import run_stack

RELEASE = "kubernetes:helm.sh/v3:Release"
# How each release's pods are read from its values (components/system_pods.py)
RELEASE_PODS = {"kube-prometheus-stack": kube_prometheus_stack_pods, "aws-load-balancer-controller": load_balancer_controller_pods,
                "cluster-autoscaler": cluster_autoscaler_pods, "keda": keda_pods}

WORKLOADS = ("kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet")


def settings_with(project_dir, **sections):
    config = read_stack_file(project_dir / "Pulumi.dev.yaml")[0]
    config.update({f"genai-platform:{key}": value for key, value in sections.items()})
    return parse_settings(config, "Pulumi.dev.yaml")


def hpa_minimum(run, name: str) -> int:
    """The starting replica count of a Deployment an HPA scales (it renders no `replicas`)."""
    (hpa,) = [r for r in run.resources if r.type.endswith("HorizontalPodAutoscaler") and r.inputs["metadata"]["name"] == name]
    return hpa.inputs["spec"]["minReplicas"]


def rendered_platform_requests(run) -> tuple[int, int]:
    """(millicores, MiB) requested by the program's system-node pods other than the gateway."""
    cpu = memory = 0
    for workload in (r for r in run.resources if r.type in WORKLOADS and r.name != "litellm"):
        pod = workload.inputs["spec"]["template"]["spec"]
        if pod.get("nodeSelector", {}).get(catalog.NEURON_NODE_LABEL):
            continue
        replicas = workload.inputs["spec"].get("replicas") or hpa_minimum(run, workload.name)
        for container in pod["containers"] + pod.get("initContainers", []):
            requests = container["resources"]["requests"]
            cpu += replicas * cpu_millis(requests["cpu"])
            memory += replicas * memory_bytes(requests["memory"]) // 2**20
    return cpu, memory


@pytest.mark.parametrize("overrides", [
    {},
    {"genai-platform:langfuse": {"webReplicas": 2, "workerReplicas": 3}, "genai-platform:openWebui": {"replicas": 2},
     "genai-platform:agentServer": {"replicas": 3, "autoscaling": None},
     # these replicas need a third node at deploy
     "genai-platform:cluster": {"systemNodes": {"instanceTypes": ["m6i.xlarge"], "minSize": 3, "maxSize": 4, "desiredSize": 3}}},
    {"genai-platform:agentServer": {"autoscaling": {"minReplicas": 4, "maxReplicas": 8},
                                    "resources": {"cpu": "500m", "memory": "768Mi"}},
     "genai-platform:cluster": {"systemNodes": {"instanceTypes": ["m6i.xlarge"], "minSize": 3, "maxSize": 4, "desiredSize": 3}}},
])
def test_the_capacity_check_counts_what_the_program_renders(project_dir, overrides):
    run = run_stack("dev", overrides=overrides)
    config = read_stack_file(project_dir / "Pulumi.dev.yaml")[0] | overrides
    assert rendered_platform_requests(run) == platform_requests(parse_settings(config, "Pulumi.dev.yaml"))


def test_the_check_counts_the_pods_the_helm_releases_render(stack_run):
    """One source of truth: every release the program renders is counted, from the values it renders,
    and each of its system-node pods states its requests (a pod without them would count as 0)."""
    rendered = []
    for release in stack_run.of_type(RELEASE):
        chart = release.inputs["chart"]
        assert chart in RELEASE_PODS, f"release {chart} lands pods on the system nodes and is not counted"
        rendered += RELEASE_PODS[chart](release.inputs["values"])
    counted = release_pods(load_stack_settings(stack_run.stack))
    assert sorted(rendered, key=repr) == sorted(counted, key=repr)
    assert {p.name for p in counted} >= {"prometheus", "grafana", "node-exporter", "aws-load-balancer-controller"}
    assert all(p.cpu_millis > 0 and p.memory_mib > 0 for p in counted)


def test_what_starts_must_fit_the_desired_nodes_with_the_releases_and_add_ons(project_dir):
    """Without its monitoring stack and front door one m6i.xlarge holds the platform's pods; with
    them (Prometheus, Grafana, the LB controller, node-exporter, ...) it does not, and the key to
    change is desiredSize (the old check counted neither and passed it)."""
    one_node = {"systemNodes": {"instanceTypes": ["m6i.xlarge"], "minSize": 1, "maxSize": 4, "desiredSize": 1}}
    lean = {"monitoring": {"enabled": False}, "frontDoor": {"enabled": False}, "neuronAutoscaler": {"enabled": False},
            "models": [{"name": "llama-3.2-1b", "hfModelId": "meta-llama/Llama-3.2-1B-Instruct", "minReplicas": 1,
                        "maxReplicas": 1, "fallback": "claude-haiku-4-5"}],
            "modelCache": {"kind": "ebs"}, "gateway": {"autoscaling": {"minReplicas": 1, "maxReplicas": 4}},
            "agentServer": {"replicas": 1, "autoscaling": None, "resources": {"cpu": "100m", "memory": "256Mi"}}}
    assert settings_with(project_dir, cluster=one_node, **lean)
    with pytest.raises(SettingsError) as err:
        # the dev stack's own monitoring and front door settings
        settings_with(project_dir, cluster=one_node, **{k: v for k, v in lean.items() if k not in ("monitoring", "frontDoor")})
    message = str(err.value)
    assert "genai-platform:cluster.systemNodes.desiredSize = 1: at least 2:" in message
    assert "the Helm releases' pods (" in message and "node-exporter" in message and "m6i.xlarge nodes" in message
    assert "Fix: pulumi config set --path 'cluster.systemNodes.desiredSize' 2" in message


def test_a_fix_beyond_max_size_names_both_keys(project_dir):
    system = {"instanceTypes": ["m6i.large"], "minSize": 1, "maxSize": 2, "desiredSize": 2}
    with pytest.raises(SettingsError) as err:
        settings_with(project_dir, cluster={"systemNodes": system}, gateway={"autoscaling": {"minReplicas": 2, "maxReplicas": 2}})
    message = str(err.value)
    assert "cluster.systemNodes.desiredSize = 2: at least " in message and "'cluster.systemNodes.maxSize'" in message


@pytest.mark.parametrize("instance_type, desired, fits", [
    ("m6i.xlarge", 2, True), ("m6i.2xlarge", 2, True), ("m7g.xlarge", 2, True), ("t3.xlarge", 2, True),
    ("r6i.xlarge", 2, True), ("m6i.large", 2, False), ("t3.medium", 4, False), ("c6i.xlarge", 2, False),
])
def test_other_system_types_pass_or_fail_on_what_they_hold(project_dir, instance_type, desired, fits):
    """The dev stack's workloads on other instance types: c6i.xlarge (8 GiB) lacks the memory that
    m6i/m7g/t3 xlarge have, 2 vCPU types lack the CPU."""
    system = {"instanceTypes": [instance_type], "minSize": 1, "maxSize": 8, "desiredSize": desired}
    gateway = {"autoscaling": {"minReplicas": 2, "maxReplicas": 4}}
    if fits:
        assert settings_with(project_dir, cluster={"systemNodes": system}, gateway=gateway)
    else:
        with pytest.raises(SettingsError, match=r"cluster\.systemNodes\.desiredSize = \d+: at least \d+"):
            settings_with(project_dir, cluster={"systemNodes": system}, gateway=gateway)


def test_pods_per_node_are_counted_too(project_dir, monkeypatch):
    """Small gateway pods on one m6i.2xlarge: CPU and memory would hold 30, its 58 pods (ENI limit) do not."""
    gateway = {"resources": {"cpu": "50m", "memory": "64Mi"}, "autoscaling": {"minReplicas": 2, "maxReplicas": 30}}
    system = {"instanceTypes": ["m6i.2xlarge"], "minSize": 1, "maxSize": 1, "desiredSize": 1}
    with pytest.raises(SettingsError, match=r"maxReplicas = 30: at most \d+: .*58 pods allocatable each"):
        settings_with(project_dir, gateway=gateway, cluster={"systemNodes": system})
    monkeypatch.setattr(capacity, "_max_pods", lambda *_: None)  # the same check without the pod limit
    assert settings_with(project_dir, gateway=gateway, cluster={"systemNodes": system})


def test_a_gateway_ceiling_beyond_the_system_nodes_names_the_keys(project_dir):
    with pytest.raises(SettingsError) as err:
        settings_with(project_dir, gateway={"autoscaling": {"minReplicas": 2, "maxReplicas": 40}})
    message = str(err.value)
    assert "genai-platform:gateway.autoscaling.maxReplicas = 40: at most 17:" in message
    assert "cluster.systemNodes.maxSize (4) m6i.xlarge nodes" in message and "Fix: pulumi config" in message
    assert "the Helm releases' pods (" in message and "the EKS add-ons' pods (" in message
    # the same ceiling on a group that can grow to hold it is fine
    system = {"instanceTypes": ["m6i.xlarge"], "minSize": 2, "maxSize": 8, "desiredSize": 2}
    cluster = {"version": "1.35", "systemNodes": system}
    assert settings_with(project_dir, gateway={"autoscaling": {"maxReplicas": 40}}, cluster=cluster)


def test_fixed_replicas_without_an_hpa_all_start_at_deploy(project_dir):
    with pytest.raises(SettingsError, match=r"cluster\.systemNodes\.desiredSize = 2: at least 6: 30 gateway pods"):
        settings_with(project_dir, gateway={"replicas": 30, "autoscaling": None})
    system = {"instanceTypes": ["m6i.xlarge"], "minSize": 2, "maxSize": 6, "desiredSize": 6}
    assert settings_with(project_dir, gateway={"replicas": 30, "autoscaling": None}, cluster={"systemNodes": system})


def test_larger_gateway_pods_lower_the_ceiling(project_dir):
    system = {"instanceTypes": ["m6i.xlarge"], "minSize": 3, "maxSize": 4, "desiredSize": 3}
    with pytest.raises(SettingsError, match=r"gateway\.autoscaling\.maxReplicas = 10: at most 4"):
        settings_with(project_dir, gateway={"resources": {"cpu": "2", "memory": "2Gi"}}, cluster={"systemNodes": system})


@pytest.mark.parametrize("instance_type, vcpus, gib, max_pods", [
    ("m6i.xlarge", 4, 16, 58), ("m7g.2xlarge", 8, 32, 58), ("c6i.large", 2, 4, 29), ("r6i.4xlarge", 16, 128, 234),
    ("t3.large", 2, 8, 35), ("m5.12xlarge", 48, 192, 234), ("m6i.16xlarge", 64, 256, 737), ("m6g.medium", 1, 4, 8),
    ("m6in.32xlarge", 128, 512, None), ("m4.large", 2, 8, None),  # ENI limits off the size pattern: not guessed
])
def test_node_shapes_of_common_system_types(instance_type, vcpus, gib, max_pods):
    """Max pods as amazon-eks-ami's eni-max-pods.txt lists them."""
    shape = node_shape(instance_type)
    assert (shape.vcpus, shape.memory_gib, shape.max_pods) == (vcpus, gib, max_pods)
    assert shape.allocatable_millis < vcpus * 1000 and shape.allocatable_mib < gib * 1024


def test_types_of_unknown_shape_are_not_guessed(project_dir):
    assert node_shape("m6i.metal") is None and node_shape("x2iedn.xlarge") is None
    cluster = {"systemNodes": {"instanceTypes": ["x2iedn.xlarge"], "minSize": 1, "maxSize": 1, "desiredSize": 1}}
    assert settings_with(project_dir, cluster=cluster)  # not checked rather than checked wrongly


def test_metrics_server_is_an_installed_addon_that_can_be_pinned(project_dir):
    assert "metrics-server" in catalog.EKS_ADDONS
    cluster = {"addonVersions": {"metrics-server": "v0.8.0-eksbuild.1"}}
    assert settings_with(project_dir, cluster=cluster).cluster.addon_versions == {"metrics-server": "v0.8.0-eksbuild.1"}
