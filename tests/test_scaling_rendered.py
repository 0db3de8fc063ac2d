"""Serving at scale as rendered: the Cluster Autoscaler and the Neuron group's ASG tags, the KEDA
ScaledObjects, PDBs and zone spreading of the model servers, the shared EFS volume."""

from __future__ import annotations

import pytest

from components import catalog
from components.settings import load_stack_settings
from components.settings.scaling import CLUSTER_AUTOSCALER_CHART, KEDA_CHART, PROMETHEUS_URL
from policy_cases import reported
from rendered import k8s, workload

NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
ASG_TAG = "aws:autoscaling/tag:Tag"
RELEASE = "kubernetes:helm.sh/v3:Release"
TEMPLATE = "k8s.io/cluster-autoscaler/node-template"
LLAMA = {"name": "llama-3.2-1b", "hfModelId": "meta-llama/Llama-3.2-1B-Instruct", "slug": "llama3-2-1b"}


def asg_tags(run) -> dict[str, str]:
    """The tags set on the Neuron group's Auto Scaling group (and only there)."""
    asg = run.one(NODE_GROUP, "neuron").outputs["resources"][0]["autoscalingGroups"][0]["name"]
    tags = run.of_type(ASG_TAG)
    assert {t.inputs["autoscalingGroupName"] for t in tags} == {asg}
    assert not any(t.inputs["tag"]["propagateAtLaunch"] for t in tags)
    return {t.inputs["tag"]["key"]: t.inputs["tag"]["value"] for t in tags}


def release(run, chart: str):
    (found,) = [r for r in run.of_type(RELEASE) if r.inputs["chart"] == chart]
    return found


def test_node_template_tags_describe_the_nodes_the_group_launches(stack_run):
    settings = load_stack_settings(stack_run.stack)
    group = stack_run.one(NODE_GROUP, "neuron").inputs
    tags = asg_tags(stack_run)
    cluster = settings.cluster_name
    assert tags["k8s.io/cluster-autoscaler/enabled"] == "true" and tags[f"k8s.io/cluster-autoscaler/{cluster}"] == "owned"
    # every label and taint the group gives its nodes, as the README's tag formats
    for key, value in group["labels"].items():
        assert tags[f"{TEMPLATE}/label/{key}"] == value
    effects = {"NO_SCHEDULE": "NoSchedule", "NO_EXECUTE": "NoExecute", "PREFER_NO_SCHEDULE": "PreferNoSchedule"}
    for taint in group["taints"]:
        assert tags[f"{TEMPLATE}/taint/{taint['key']}"] == f"{taint['value']}:{effects[taint['effect']]}"
    # the extended resources model servers request, for the type that launches first
    launched = catalog.NEURON_INSTANCES[group["instanceTypes"][0]]
    assert tags[f"{TEMPLATE}/resources/{catalog.NEURON_CORE_RESOURCE}"] == str(launched.neuron_cores)
    assert tags[f"{TEMPLATE}/resources/aws.amazon.com/neuron"] == str(launched.chips)
    for model in settings.models:
        requests = workload(stack_run, model.service_name).inputs["spec"]["template"]["spec"]["containers"][0]["resources"]
        assert int(requests["requests"][catalog.NEURON_CORE_RESOURCE]) <= launched.neuron_cores


def test_the_autoscaler_release_is_pinned_and_discovers_this_cluster(stack_run):
    settings = load_stack_settings(stack_run.stack)
    ca = release(stack_run, "cluster-autoscaler").inputs
    assert ca["version"] == CLUSTER_AUTOSCALER_CHART and ca["repositoryOpts"]["repo"] == "https://kubernetes.github.io/autoscaler"
    values = ca["values"]
    assert values["autoDiscovery"]["clusterName"] == settings.cluster_name and values["awsRegion"] == settings.region
    assert values["extraArgs"]["scale-down-unneeded-time"] == f"{settings.neuron_autoscaler.scale_down_idle_minutes}m"
    assert values["nodeSelector"] == {"genai-platform/pool": "system"}  # never on a node it may remove
    (association,) = [a for a in stack_run.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
                      if a.inputs["serviceAccount"] == values["rbac"]["serviceAccount"]["name"]]
    assert association.inputs["namespace"] == ca["namespace"] == "kube-system"


def test_the_idle_time_and_the_autoscaler_are_settings(run_with):
    run = run_with("dev", {"genai-platform:neuronAutoscaler": {"scaleDownIdleMinutes": 25}})
    assert release(run, "cluster-autoscaler").inputs["values"]["extraArgs"]["scale-down-unneeded-time"] == "25m"
    # the autoscaler owns desiredSize: Pulumi leaves it alone (pulumi/pulumi-eks#1293)
    assert run.one(NODE_GROUP, "neuron").ignore_changes == ["scalingConfig.desiredSize"]
    off = run_with("dev", {"genai-platform:neuronAutoscaler": {"enabled": False},
                           "genai-platform:neuron": {"minSize": 0, "maxSize": 2, "desiredSize": 2}})
    assert not off.of_type(ASG_TAG) and not [r for r in off.of_type(RELEASE) if r.inputs["chart"] == "cluster-autoscaler"]
    assert off.one(NODE_GROUP, "neuron").ignore_changes == []


def test_busy_neuron_nodes_are_never_drained_by_the_autoscaler(stack_run):
    for model in load_stack_settings(stack_run.stack).models:
        meta = workload(stack_run, model.service_name).inputs["spec"]["template"]["metadata"]
        assert meta["annotations"]["cluster-autoscaler.kubernetes.io/safe-to-evict"] == "false"


def test_scaled_objects_follow_each_models_replica_range(stack_run):
    settings = load_stack_settings(stack_run.stack)
    keda = release(stack_run, "keda").inputs
    assert keda["version"] == KEDA_CHART and keda["repositoryOpts"]["repo"] == "https://kedacore.github.io/charts"
    for model in settings.models:
        deployment = workload(stack_run, model.service_name).inputs
        (scaled,) = k8s(stack_run, "ScaledObject", model.service_name)
        spec = scaled.inputs["spec"]
        assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": model.service_name}
        assert (spec["minReplicaCount"], spec["maxReplicaCount"]) == (model.min_replicas, model.max_replicas)
        assert spec["cooldownPeriod"] == model.idle_minutes * 60
        assert "replicas" not in deployment["spec"]  # KEDA's HPA owns the count
        queue, wake = spec["triggers"]
        assert queue["type"] == wake["type"] == "prometheus"
        assert queue["metadata"]["serverAddress"] == wake["metadata"]["serverAddress"] == PROMETHEUS_URL
        assert f'vllm:num_requests_waiting{{namespace="genai",model_name="{model.name}"}}' in queue["metadata"]["query"]
        assert queue["metadata"]["threshold"] == str(model.target_waiting_requests)
        assert f'requested_model="{model.name}"' in wake["metadata"]["query"]
        assert wake["metadata"]["activationThreshold"] == "0"


def test_several_replicas_get_a_pdb_and_spread_over_zones(stack_run):
    for model in load_stack_settings(stack_run.stack).models:
        deployment = workload(stack_run, model.service_name).inputs["spec"]
        selector = deployment["selector"]["matchLabels"]
        (pdb,) = k8s(stack_run, "PodDisruptionBudget", model.service_name)
        assert pdb.inputs["spec"] == {"maxUnavailable": 1, "selector": {"matchLabels": selector}}
        (spread,) = deployment["template"]["spec"]["topologySpreadConstraints"]
        assert spread["topologyKey"] == "topology.kubernetes.io/zone" and spread["labelSelector"]["matchLabels"] == selector
        # the shared cache lets a new replica start next to the old one
        assert deployment["strategy"] == {"type": "RollingUpdate"}


def test_a_fixed_single_replica_has_no_scaled_object_nor_pdb(run_with):
    run = run_with("dev", {"genai-platform:models": [{**LLAMA, "minReplicas": 1, "maxReplicas": 1}]})
    assert not k8s(run, "ScaledObject") and not [r for r in run.of_type(RELEASE) if r.inputs["chart"] == "keda"]
    assert workload(run, "vllm-llama3-2-1b").inputs["spec"]["replicas"] == 1
    assert not k8s(run, "PodDisruptionBudget", "vllm-llama3-2-1b")


def test_scale_to_zero_waits_for_the_idle_time_and_falls_back_to_bedrock(run_with):
    import yaml  # noqa: PLC0415

    run = run_with("dev", {"genai-platform:models": [{**LLAMA, "minReplicas": 0, "maxReplicas": 2, "idleMinutes": 30}]})
    (scaled,) = k8s(run, "ScaledObject", "vllm-llama3-2-1b")
    assert scaled.inputs["spec"]["minReplicaCount"] == 0 and scaled.inputs["spec"]["cooldownPeriod"] == 1800
    # while it is cold the gateway answers from the model's Bedrock fallback
    (config_map,) = k8s(run, "ConfigMap", "litellm-config")
    config = yaml.safe_load(config_map.inputs["data"]["config.yaml"])
    fallbacks = {k: v for entry in config["router_settings"]["fallbacks"] for k, v in entry.items()}
    assert fallbacks["llama-3.2-1b"] and all(f.startswith("claude") for f in fallbacks["llama-3.2-1b"])


def test_the_shared_cache_is_one_encrypted_efs_mounted_read_write_many(stack_run):
    fs = stack_run.one("aws:efs/fileSystem:FileSystem")
    assert fs.inputs["encrypted"] is True
    targets = stack_run.of_type("aws:efs/mountTarget:MountTarget")
    private = [s for s in stack_run.of_type("aws:ec2/subnet:Subnet") if "private" in s.name]
    assert sorted(t.inputs["subnetId"] for t in targets) == sorted(s.outputs["id"] for s in private)  # one per AZ
    (rule,) = stack_run.of_type("aws:ec2/securityGroupRule:SecurityGroupRule")
    assert (rule.inputs["type"], rule.inputs["fromPort"], rule.inputs["toPort"]) == ("ingress", 2049, 2049)
    assert rule.inputs["sourceSecurityGroupId"].startswith("sg-") and "cidrBlocks" not in rule.inputs
    addon = stack_run.one("aws:eks/addon:Addon", "efs-csi-driver").inputs
    assert addon["podIdentityAssociations"][0]["serviceAccount"] == "efs-csi-controller-sa"
    (pv,) = k8s(stack_run, "PersistentVolume", namespace=None)
    assert pv.inputs["spec"]["csi"]["driver"] == "efs.csi.aws.com"
    assert pv.inputs["spec"]["csi"]["volumeHandle"] == fs.outputs["id"]
    assert pv.inputs["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    (claim,) = k8s(stack_run, "PersistentVolumeClaim", "model-cache")
    # protected while the stack retains data (retainData: false lets a dev stack go in one destroy)
    assert claim.inputs["spec"]["accessModes"] == ["ReadWriteMany"]
    assert claim.protect is load_stack_settings(stack_run.stack).retain_data
    assert claim.inputs["spec"]["volumeName"] == pv.inputs["metadata"]["name"]
    for model in load_stack_settings(stack_run.stack).models:
        volumes = workload(stack_run, model.service_name).inputs["spec"]["template"]["spec"]["volumes"]
        assert {"name": "cache", "persistentVolumeClaim": {"claimName": "model-cache"}} in volumes


def test_zonal_caches_keep_one_replica_on_its_own_volume(run_with):
    run = run_with("dev", {"genai-platform:modelCache": {"kind": "ebs"},
                           "genai-platform:models": [{**LLAMA, "minReplicas": 0, "maxReplicas": 1}]})
    assert not run.of_type("aws:efs/fileSystem:FileSystem")
    spec = workload(run, "vllm-llama3-2-1b").inputs["spec"]
    (claim,) = k8s(run, "PersistentVolumeClaim", "vllm-llama3-2-1b-cache")
    assert claim.inputs["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert spec["strategy"] == {"type": "Recreate"}  # the volume cannot attach to two nodes


@pytest.mark.parametrize("replicas", [4, 8])
def test_neuron_scheduling_rules_hold_with_many_replicas(run_with, replicas):
    run = run_with("dev", {"genai-platform:models": [{**LLAMA, "minReplicas": 1, "maxReplicas": replicas}],
                           "genai-platform:neuron": {"maxSize": replicas, "minSize": 0, "desiredSize": 1}})
    found = {rule for rule, _ in reported(run.resources)}
    assert not found & {"k8s-neuron-toleration", "k8s-neuron-toleration-requests-cores",
                        "neuron-group-single-zone-for-zonal-volumes", "neuron-node-group-taint"}


def test_existing_vpcs_get_one_mount_target_per_zone(run_with):
    """Two existing private subnets in one AZ: EFS takes one mount target there (the engine refuses
    a second one, as CreateMountTarget does with MountTargetConflict)."""
    run = run_with("dev", {"genai-platform:network": {
        "existingVpcId": "vpc-0123456789abcdef0", "existingPublicSubnetIds": ["subnet-0c0c0c0c", "subnet-0d0d0d01"],
        # mocked AZ by the id's last hex digit: 1 -> us-east-1b, 0 -> us-east-1a
        "existingPrivateSubnetIds": ["subnet-0aaaaaa1", "subnet-0bbbbbb1", "subnet-0cccccc0"]}})
    targets = sorted(t.inputs["subnetId"] for t in run.of_type("aws:efs/mountTarget:MountTarget"))
    assert targets == ["subnet-0aaaaaa1", "subnet-0cccccc0"]


def test_the_engine_refuses_a_second_mount_target_in_one_zone():
    from types import SimpleNamespace  # noqa: PLC0415

    from tools.offline.mocks import PlatformMocks  # noqa: PLC0415

    mocks = PlatformMocks("us-east-1")

    def target(name, subnet):
        return mocks.new_resource(SimpleNamespace(typ="aws:efs/mountTarget:MountTarget", name=name,
                                                  inputs={"fileSystemId": "fs-1", "subnetId": subnet}))

    target("a", "subnet-0aaaaaa1")
    target("c", "subnet-0cccccc0")  # another AZ
    with pytest.raises(ValueError, match="MountTargetConflict"):
        target("b", "subnet-0bbbbbb1")  # us-east-1b again


def test_keda_may_query_prometheus_through_its_namespaces_default_deny(stack_run):
    """The metrics stack (issue 13) denies all ingress into `monitoring` but its own pods; KEDA's
    queries get one edge there, to Prometheus's port only."""
    (edge,) = k8s(stack_run, "NetworkPolicy", "keda-queries-prometheus", namespace="monitoring")
    spec = edge.inputs["spec"]
    assert spec["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "prometheus"}}
    (rule,) = spec["ingress"]
    assert rule["from"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "keda"}}}]
    assert rule["ports"] == [{"protocol": "TCP", "port": 9090}]  # from PROMETHEUS_URL


def test_a_prometheus_outside_the_cluster_needs_no_edge(run_with):
    run = run_with("dev", {"genai-platform:modelAutoscaling": {"prometheusUrl": "https://prometheus.example.com"}})
    assert not k8s(run, "NetworkPolicy", "keda-queries-prometheus", namespace="monitoring")
    (scaled,) = k8s(run, "ScaledObject")
    assert {t["metadata"]["serverAddress"] for t in scaled.inputs["spec"]["triggers"]} == {"https://prometheus.example.com"}


def test_each_model_writes_its_own_compiler_cache_on_the_shared_volume(run_with):
    """Only the holder of a model's compile lock writes that model's directories."""
    run = run_with("dev", {"genai-platform:models": [
        {**LLAMA, "minReplicas": 1, "maxReplicas": 1},
        {"name": "qwen-0.5b", "hfModelId": "Qwen/Qwen2.5-0.5B-Instruct", "gated": False, "neuronCores": 1,
         "minReplicas": 0, "maxReplicas": 1}]})
    caches = set()
    for name, slug in (("vllm-llama3-2-1b", "llama3-2-1b"), ("vllm-qwen-0-5b", "qwen-0-5b")):
        (container,) = workload(run, name).inputs["spec"]["template"]["spec"]["containers"]
        variables = {e["name"]: e.get("value") for e in container["env"]}
        assert variables["NEURON_COMPILE_CACHE_URL"] == f"/cache/neuron-compile-cache/{slug}"
        assert container["args"][0] == f"/cache/neuron-compiled/{slug}"  # the lock is <that>.lock
        caches.add(variables["NEURON_COMPILE_CACHE_URL"])
    assert len(caches) == 2
