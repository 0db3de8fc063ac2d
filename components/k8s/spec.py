"""What an app states about its workload; `Workload` turns it into Kubernetes objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Optional, Union

import pulumi

from components.settings.workload import Resources

APP_LABEL = "app.kubernetes.io/name"
PART_OF = {"app.kubernetes.io/part-of": "genai-platform"}
# "Users": pods in namespaces labelled this way (an ingress controller) may reach the UIs.
# kubectl port-forward goes through the kubelet and needs no NetworkPolicy edge.
USERS_NAMESPACE_LABEL = {"genai-platform/user-ingress": "true"}
# Prometheus (kube-prometheus-stack in `monitoring`): the only caller of a workload's metrics port
PROMETHEUS_PEER = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
    "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
}


@dataclass(frozen=True)
class Port:
    """A container port and the Service port in front of it."""

    name: str
    container_port: int
    service_port: Optional[int] = None

    @property
    def exposed(self) -> int:
        """The Service port (defaults to the container port)."""
        return self.service_port or self.container_port


@dataclass(frozen=True)
class Probe:
    """An HTTP GET (path set), TCP or exec probe against a named port."""

    path: Optional[str] = None
    port: Union[str, int] = "http"
    command: Optional[tuple[str, ...]] = None
    period: int = 10
    failures: int = 3
    timeout: int = 5


@dataclass(frozen=True)
class SecretRef:
    """An env var (or file) from a key of a Kubernetes Secret."""

    secret: pulumi.Input[str]
    key: str


@dataclass(frozen=True)
class Volume:
    """A persistent volume: a PVC for a Deployment, a volumeClaimTemplate for a StatefulSet."""

    name: str
    mount_path: str
    size_gib: int
    sub_path: Optional[str] = None
    claim: Optional[pulumi.Input[str]] = None
    """An existing (shared, ReadWriteMany) claim to mount instead of a new ReadWriteOnce one."""


@dataclass(frozen=True)
class FileMount:
    """Files from a ConfigMap or Secret mounted read-only at `mount_path`."""

    name: str
    mount_path: str
    config_map: Optional[pulumi.Input[str]] = None
    secret: Optional[pulumi.Input[str]] = None
    sub_path: Optional[str] = None
    mode: int = 0o440


@dataclass(frozen=True)
class Edge:
    """Another workload in the namespace (by app name) on a port; or `users`."""

    app: str
    port: int


@dataclass
class WorkloadSpec:
    """Everything an app module says about one workload; the rest is the shared shape."""

    name: str
    image: str
    ports: list[Port]
    resources: Resources
    liveness: Probe
    readiness: Probe
    startup: Optional[Probe] = None
    kind: Literal["Deployment", "StatefulSet"] = "Deployment"
    component: str = "app"
    replicas: Optional[int] = 1
    command: Optional[list[str]] = None
    args: Optional[list[pulumi.Input[str]]] = None
    env: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    secret_env: dict[str, SecretRef] = field(default_factory=dict)
    volumes: list[Volume] = field(default_factory=list)
    files: list[FileMount] = field(default_factory=list)
    scratch_paths: dict[str, str] = field(default_factory=dict)
    memory_scratch_paths: dict[str, str] = field(default_factory=dict)
    run_as_user: int = 1000
    run_as_group: Optional[int] = None
    fs_group: Optional[int] = None
    read_only_root: bool = True
    service_account: Optional[str] = None
    automount_token: bool = False
    service: bool = True
    allow_from: list[Edge] = field(default_factory=list)
    allow_users: bool = False
    allow_from_cidrs: list[pulumi.Input[str]] = field(default_factory=list)
    """Addresses outside the cluster (the front door ALB's subnets) that may reach every port."""
    metrics_port: Optional[int] = None
    """The container port Prometheus scrapes (/metrics), if any."""
    egress_to: list[Edge] = field(default_factory=list)
    egress_https: bool = False
    egress_aws_identity: bool = False
    node_selector: dict[str, str] = field(default_factory=dict)
    tolerations: list[dict] = field(default_factory=list)
    extra_resources: dict[str, str] = field(default_factory=dict)
    pod_annotations: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    strategy: Optional[Literal["RollingUpdate", "Recreate"]] = None
    termination_grace_seconds: int = 30
    depends_on: list[pulumi.Resource] = field(default_factory=list)

    @property
    def may_run_several(self) -> bool:
        """More than one replica (or an autoscaler owns the count): PDB and zone spreading apply."""
        return self.replicas is None or self.replicas > 1
