"""The gateway's HPA has metrics (metrics-server) and a ceiling that fits the system node group."""

from __future__ import annotations

import pytest

from components import catalog
from components.k8s.quantity import cpu_millis, memory_bytes
from components.settings import SettingsError, parse_settings
from components.settings.capacity import ADDON_PODS, node_shape, platform_requests
from components.settings.loading import read_stack_file
from tools.offline.engine import run_stack

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
     "genai-platform:agentServer": {"replicas": 3, "autoscaling": None}},
    {"genai-platform:agentServer": {"autoscaling": {"minReplicas": 4, "maxReplicas": 8},
                                    "resources": {"cpu": "500m", "memory": "768Mi"}}},
])
def test_the_capacity_check_counts_what_the_program_renders(project_dir, overrides):
    run = run_stack("dev", overrides=overrides)
    config = read_stack_file(project_dir / "Pulumi.dev.yaml")[0] | overrides
    estimated = platform_requests(parse_settings(config, "Pulumi.dev.yaml"))
    assert rendered_platform_requests(run) == (estimated[0] - ADDON_PODS[0], estimated[1] - ADDON_PODS[1])


def test_a_gateway_ceiling_beyond_the_system_nodes_names_the_keys(project_dir):
    with pytest.raises(SettingsError) as err:
        settings_with(project_dir, gateway={"autoscaling": {"minReplicas": 2, "maxReplicas": 40}})
    message = str(err.value)
    assert "genai-platform:gateway.autoscaling.maxReplicas = 40: at most 21:" in message
    assert "cluster.systemNodes.maxSize (4) m6i.xlarge nodes" in message and "Fix: pulumi config" in message
    # the same ceiling on a group that can grow to hold it is fine
    system = {"instanceTypes": ["m6i.xlarge"], "minSize": 2, "maxSize": 8, "desiredSize": 2}
    cluster = {"version": "1.35", "systemNodes": system}
    assert settings_with(project_dir, gateway={"autoscaling": {"maxReplicas": 40}}, cluster=cluster)


def test_fixed_replicas_without_an_hpa_are_checked_too(project_dir):
    with pytest.raises(SettingsError, match=r"genai-platform:gateway\.replicas = 30: at most 21"):
        settings_with(project_dir, gateway={"replicas": 30, "autoscaling": None})


def test_larger_gateway_pods_lower_the_ceiling(project_dir):
    with pytest.raises(SettingsError, match=r"gateway\.autoscaling\.maxReplicas = 10: at most 5"):
        settings_with(project_dir, gateway={"resources": {"cpu": "2", "memory": "2Gi"}})


@pytest.mark.parametrize("instance_type, vcpus, gib", [
    ("m6i.xlarge", 4, 16), ("m7g.2xlarge", 8, 32), ("c6i.large", 2, 4), ("r6i.4xlarge", 16, 128),
    ("t3.large", 2, 8), ("m5.12xlarge", 48, 192),
])
def test_node_shapes_of_common_system_types(instance_type, vcpus, gib):
    shape = node_shape(instance_type)
    assert (shape.vcpus, shape.memory_gib) == (vcpus, gib)
    assert shape.allocatable_millis < vcpus * 1000 and shape.allocatable_mib < gib * 1024


def test_types_of_unknown_shape_are_not_guessed(project_dir):
    assert node_shape("m6i.metal") is None and node_shape("x2iedn.xlarge") is None
    cluster = {"systemNodes": {"instanceTypes": ["x2iedn.xlarge"], "minSize": 1, "maxSize": 1, "desiredSize": 1}}
    assert settings_with(project_dir, cluster=cluster)  # not checked rather than checked wrongly


def test_metrics_server_is_an_installed_addon_that_can_be_pinned(project_dir):
    assert "metrics-server" in catalog.EKS_ADDONS
    cluster = {"addonVersions": {"metrics-server": "v0.8.0-eksbuild.1"}}
    assert settings_with(project_dir, cluster=cluster).cluster.addon_versions == {"metrics-server": "v0.8.0-eksbuild.1"}
