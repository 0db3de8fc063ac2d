"""The Neuron device plugin: advertises `aws.amazon.com/neuroncore` and `aws.amazon.com/neuron`."""

from __future__ import annotations

from typing import Optional, Sequence, TypedDict

import pulumi
from pulumi_kubernetes.apps.v1 import DaemonSet, DaemonSetSpecArgs
from pulumi_kubernetes.core.v1 import (
    ContainerArgs,
    EnvVarArgs,
    EnvVarSourceArgs,
    HostPathVolumeSourceArgs,
    ObjectFieldSelectorArgs,
    PodSecurityContextArgs,
    PodSpecArgs,
    PodTemplateSpecArgs,
    ResourceRequirementsArgs,
    SeccompProfileArgs,
    SecurityContextArgs,
    CapabilitiesArgs,
    ServiceAccount,
    TolerationArgs,
    VolumeArgs,
    VolumeMountArgs,
)
from pulumi_kubernetes.meta.v1 import LabelSelectorArgs, ObjectMetaArgs
from pulumi_kubernetes.rbac.v1 import ClusterRole, ClusterRoleBinding, PolicyRuleArgs, RoleRefArgs, SubjectArgs

from components import catalog

NAME = "neuron-device-plugin"
NAMESPACE = "kube-system"


class NeuronDevicePluginArgs(TypedDict):
    """Inputs of `NeuronDevicePlugin`."""

    image: str
    """Pinned device plugin image."""
    instance_types: Sequence[str]
    """Neuron instance types in use: the DaemonSet runs only on these nodes."""
    provider: pulumi.ProviderResource
    """Kubernetes provider of the cluster."""


def device_plugin_rules() -> list[PolicyRuleArgs]:
    """What the plugin needs: read nodes, allocate on pods, report events and node status."""
    return [
        PolicyRuleArgs(api_groups=[""], resources=["nodes"], verbs=["get", "list", "watch"]),
        PolicyRuleArgs(api_groups=[""], resources=["events"], verbs=["create", "patch"]),
        PolicyRuleArgs(api_groups=[""], resources=["pods"], verbs=["update", "patch", "get", "list", "watch"]),
        PolicyRuleArgs(api_groups=[""], resources=["nodes/status"], verbs=["patch", "update"]),
    ]


class NeuronDevicePlugin(pulumi.ComponentResource):
    """ServiceAccount, ClusterRole(Binding) and DaemonSet in kube-system, as upstream runs it,
    pinned and restricted to the Neuron instance types in use."""

    daemonset_name: pulumi.Output[str]
    """The DaemonSet name."""

    def __init__(self, name: str, args: NeuronDevicePluginArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("genai:neuron:NeuronDevicePlugin", name, {}, opts)
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=args["provider"])
        labels = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/part-of": "genai-platform"}
        meta = ObjectMetaArgs(name=NAME, namespace=NAMESPACE, labels=labels)

        account = ServiceAccount(f"{name}-sa", metadata=meta, automount_service_account_token=True, opts=k8s_opts)
        role = ClusterRole(
            f"{name}-role", metadata=ObjectMetaArgs(name=NAME, labels=labels), rules=device_plugin_rules(), opts=k8s_opts
        )
        ClusterRoleBinding(
            f"{name}-binding",
            metadata=ObjectMetaArgs(name=NAME, labels=labels),
            role_ref=RoleRefArgs(api_group="rbac.authorization.k8s.io", kind="ClusterRole", name=role.metadata.name),
            subjects=[SubjectArgs(kind="ServiceAccount", name=account.metadata.name, namespace=NAMESPACE)],
            opts=k8s_opts,
        )

        host_paths = {"device-plugin": "/var/lib/kubelet/device-plugins", "run": "/run"}
        daemonset = DaemonSet(
            f"{name}-ds",
            metadata=meta,
            spec=DaemonSetSpecArgs(
                selector=LabelSelectorArgs(match_labels={"app.kubernetes.io/name": NAME}),
                update_strategy={"type": "RollingUpdate"},
                template=PodTemplateSpecArgs(
                    metadata=ObjectMetaArgs(labels=labels),
                    spec=PodSpecArgs(
                        service_account_name=account.metadata.name,
                        priority_class_name="system-node-critical",
                        # The runtime's default seccomp profile: a gRPC server on a socket needs no more
                        security_context=PodSecurityContextArgs(
                            seccomp_profile=SeccompProfileArgs(type="RuntimeDefault")
                        ),
                        tolerations=[
                            TolerationArgs(key="CriticalAddonsOnly", operator="Exists"),
                            TolerationArgs(key=catalog.NEURON_TAINT_KEY, operator="Exists", effect="NoSchedule"),
                        ],
                        affinity={
                            "nodeAffinity": {
                                "requiredDuringSchedulingIgnoredDuringExecution": {
                                    "nodeSelectorTerms": [
                                        {
                                            "matchExpressions": [
                                                {
                                                    "key": "node.kubernetes.io/instance-type",
                                                    "operator": "In",
                                                    "values": sorted(args["instance_types"]),
                                                }
                                            ]
                                        }
                                    ]
                                }
                            }
                        },
                        containers=[
                            ContainerArgs(
                                name=NAME,
                                image=args["image"],
                                image_pull_policy="IfNotPresent",
                                env=[
                                    EnvVarArgs(
                                        name="NODE_NAME",
                                        value_from=EnvVarSourceArgs(
                                            field_ref=ObjectFieldSelectorArgs(field_path="spec.nodeName")
                                        ),
                                    ),
                                ],
                                # The plugin registers a socket in a hostPath; it needs no capabilities
                                security_context=SecurityContextArgs(
                                    allow_privilege_escalation=False,
                                    capabilities=CapabilitiesArgs(drop=["ALL"]),
                                ),
                                resources=ResourceRequirementsArgs(
                                    requests={"cpu": "50m", "memory": "64Mi"}, limits={"cpu": "200m", "memory": "128Mi"}
                                ),
                                volume_mounts=[
                                    VolumeMountArgs(name=volume, mount_path=path) for volume, path in host_paths.items()
                                ],
                            )
                        ],
                        volumes=[
                            VolumeArgs(name=volume, host_path=HostPathVolumeSourceArgs(path=path))
                            for volume, path in host_paths.items()
                        ],
                    ),
                ),
            ),
            opts=k8s_opts,
        )
        self.daemonset_name = daemonset.metadata.name
        self.register_outputs({"daemonset_name": self.daemonset_name})
