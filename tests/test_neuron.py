"""The Neuron node group and device plugin."""

from __future__ import annotations

from components.settings import load_stack_settings

NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"


def test_neuron_node_group_ami_types_taint_scaling(stack_run):
    settings = load_stack_settings(stack_run.stack).neuron
    group = stack_run.one(NODE_GROUP, "neuron").inputs
    assert group["amiType"] == "AL2023_x86_64_NEURON"
    assert group["instanceTypes"] == settings.instance_types
    assert group["capacityType"] == settings.capacity_type
    assert group["taints"] == [{"key": "aws.amazon.com/neuron", "value": "true", "effect": "NO_SCHEDULE"}]
    assert group["labels"] == {"genai-platform/accelerator": "neuron"}
    assert group["scalingConfig"] == {
        "minSize": settings.min_size, "maxSize": settings.max_size, "desiredSize": settings.desired_size,
    }


def test_neuron_launch_template_imdsv2_and_large_encrypted_root(stack_run):
    settings = load_stack_settings(stack_run.stack).neuron
    template = stack_run.one("aws:ec2/launchTemplate:LaunchTemplate", "neuron")
    group = stack_run.one(NODE_GROUP, "neuron").inputs
    assert group["launchTemplate"]["id"] == template.outputs["id"]
    assert template.inputs["metadataOptions"]["httpTokens"] == "required"
    assert template.inputs["metadataOptions"]["httpPutResponseHopLimit"] == 1
    ebs = template.inputs["blockDeviceMappings"][0]["ebs"]
    assert ebs["encrypted"] == "true" and ebs["volumeSize"] == settings.disk_gib >= 100


def test_spot_and_idle_settings_flow_through(run_with):
    run = run_with("dev", {"genai-platform:neuron": {
        "instanceTypes": ["trn1.2xlarge"], "capacityType": "SPOT", "minSize": 0, "maxSize": 3, "desiredSize": 0,
    }})
    group = run.one(NODE_GROUP, "neuron").inputs
    assert group["capacityType"] == "SPOT"
    assert group["scalingConfig"] == {"minSize": 0, "maxSize": 3, "desiredSize": 0}
    plugin = run.one("kubernetes:apps/v1:DaemonSet", "device-plugin").inputs
    terms = plugin["spec"]["template"]["spec"]["affinity"]["nodeAffinity"]
    values = terms["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][0]["matchExpressions"][0]["values"]
    assert values == ["trn1.2xlarge"]


def test_device_plugin_daemonset(stack_run):
    settings = load_stack_settings(stack_run.stack).neuron
    ds = stack_run.one("kubernetes:apps/v1:DaemonSet", "device-plugin").inputs
    assert ds["metadata"]["namespace"] == "kube-system"
    pod = ds["spec"]["template"]["spec"]
    assert pod["priorityClassName"] == "system-node-critical"
    assert {"key": "aws.amazon.com/neuron", "operator": "Exists", "effect": "NoSchedule"} in pod["tolerations"]
    assert {"key": "CriticalAddonsOnly", "operator": "Exists"} in pod["tolerations"]
    (term,) = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    (expr,) = term["matchExpressions"]
    assert expr == {"key": "node.kubernetes.io/instance-type", "operator": "In", "values": sorted(settings.instance_types)}
    (container,) = pod["containers"]
    assert container["image"] == "public.ecr.aws/neuron/neuron-device-plugin:2.31.0.0"
    assert {"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}} in container["env"]
    paths = {v["hostPath"]["path"] for v in pod["volumes"]}
    assert paths == {"/var/lib/kubelet/device-plugins", "/run"}


def test_device_plugin_rbac(stack_run):
    role = stack_run.one("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole").inputs
    rules = {(r["resources"][0], tuple(sorted(r["verbs"]))) for r in role["rules"]}
    assert ("nodes", ("get", "list", "watch")) in rules
    assert ("pods", ("get", "list", "patch", "update", "watch")) in rules
    assert ("nodes/status", ("patch", "update")) in rules
    binding = stack_run.one("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding").inputs
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "neuron-device-plugin", "namespace": "kube-system"}]
