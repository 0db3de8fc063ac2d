"""The one workload helper: Deployment/StatefulSet + Service + ServiceAccount + PDB + NetworkPolicy.

App modules describe a `WorkloadSpec`; this module owns the shared, production shape: pinned
image, labels, requests and limits, probes, the restricted security context with a read-only
root and emptyDir scratch space, persistent volumes, and who may call the pods.
"""

from __future__ import annotations

from typing import Any, Optional

import pulumi
from pulumi_kubernetes.apps.v1 import Deployment, StatefulSet
from pulumi_kubernetes.core.v1 import PersistentVolumeClaim, Service, ServiceAccount
from pulumi_kubernetes.policy.v1 import PodDisruptionBudget

from components.k8s.network import network_policy
from components.k8s.quantity import cpu_millis
from components.k8s.spec import APP_LABEL, PART_OF, Probe, WorkloadSpec
from components.retention import DataRetention
from components.settings.workload import Resources


def resource_requirements(resources: Resources, extra: dict[str, str]) -> dict[str, dict[str, str]]:
    """Requests from settings; memory limit = request unless set, CPU limit = 4x request unless set."""
    cpu_limit = resources.cpu_limit or _scale_cpu(resources.cpu, 4)
    return {
        "requests": {"cpu": resources.cpu, "memory": resources.memory, **extra},
        "limits": {"cpu": cpu_limit, "memory": resources.memory_limit or resources.memory, **extra},
    }


def _scale_cpu(cpu: str, factor: int) -> str:
    return f"{cpu_millis(cpu) * factor}m"


def probe(p: Probe, initial_delay: int = 0) -> dict[str, Any]:
    """A Kubernetes probe from a `Probe`."""
    if p.command:
        handler: dict[str, Any] = {"exec": {"command": list(p.command)}}
    elif p.path:
        handler = {"httpGet": {"path": p.path, "port": p.port}}
    else:
        handler = {"tcpSocket": {"port": p.port}}
    return {
        **handler,
        "initialDelaySeconds": initial_delay,
        "periodSeconds": p.period,
        "timeoutSeconds": p.timeout,
        "failureThreshold": p.failures,
    }


def security_contexts(spec: WorkloadSpec) -> tuple[dict[str, Any], dict[str, Any]]:
    """(pod, container) security contexts meeting the `restricted` Pod Security Standard."""
    pod = {
        "runAsNonRoot": True,
        "runAsUser": spec.run_as_user,
        "runAsGroup": spec.run_as_user if spec.run_as_group is None else spec.run_as_group,
        "fsGroup": spec.run_as_user if spec.fs_group is None else spec.fs_group,
        "fsGroupChangePolicy": "OnRootMismatch",
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    container = {
        "runAsNonRoot": True,
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "readOnlyRootFilesystem": spec.read_only_root,
        "capabilities": {"drop": ["ALL"]},
    }
    return pod, container


class Workload(pulumi.ComponentResource):
    """One app's pods and everything around them, in the shared production shape."""

    service_name: pulumi.Output[str]
    """The Service name (the workload name)."""

    def __init__(
        self,
        spec: WorkloadSpec,
        namespace: pulumi.Input[str],
        provider: pulumi.ProviderResource,
        opts: Optional[pulumi.ResourceOptions] = None,
        retention: Optional[DataRetention] = None,
    ) -> None:
        super().__init__("genai:k8s:Workload", spec.name, {}, opts)
        if spec.volumes and retention is None:
            raise ValueError(f"workload {spec.name} has volumes: pass retention=settings.retention")
        self.spec = spec
        self.retention = retention
        self.namespace = namespace
        self._opts = pulumi.ResourceOptions(parent=self, provider=provider)
        labels = {APP_LABEL: spec.name, "app.kubernetes.io/component": spec.component, **PART_OF}
        self.labels = labels
        self.selector = {APP_LABEL: spec.name}

        account = ServiceAccount(
            f"{spec.name}-sa",
            metadata=self._meta(spec.service_account or spec.name),
            automount_service_account_token=spec.automount_token,
            opts=self._opts,
        )
        claims = self._claims() if spec.kind == "Deployment" else []
        pod = self._pod_template(account.metadata.name, claims)
        workload_opts = pulumi.ResourceOptions.merge(self._opts, pulumi.ResourceOptions(depends_on=spec.depends_on))
        if spec.kind == "StatefulSet":
            workload = StatefulSet(spec.name, metadata=self._meta(spec.name, spec.annotations), spec=self._statefulset(pod), opts=workload_opts)
        else:
            workload = Deployment(spec.name, metadata=self._meta(spec.name, spec.annotations), spec=self._deployment(pod), opts=workload_opts)
        self.workload = workload

        if spec.service:
            Service(
                f"{spec.name}-svc",
                metadata=self._meta(spec.name),
                spec={
                    "type": "ClusterIP",
                    "selector": self.selector,
                    "ports": [
                        {"name": p.name, "port": p.exposed, "targetPort": p.name, "protocol": "TCP"} for p in spec.ports
                    ],
                },
                opts=self._opts,
            )
        if spec.may_run_several:
            PodDisruptionBudget(
                f"{spec.name}-pdb",
                metadata=self._meta(spec.name),
                spec={"maxUnavailable": 1, "selector": {"matchLabels": self.selector}},
                opts=self._opts,
            )
        network_policy(spec, self.selector, self._meta(spec.name), self._opts)

        self.service_name = pulumi.Output.from_input(spec.name)
        self.register_outputs({"service_name": self.service_name})

    def _meta(self, name: str, annotations: Optional[dict[str, str]] = None) -> dict[str, Any]:
        meta: dict[str, Any] = {"name": name, "namespace": self.namespace, "labels": self.labels}
        if annotations:
            meta["annotations"] = annotations
        return meta

    def _claims(self) -> list[PersistentVolumeClaim]:
        return [
            PersistentVolumeClaim(
                f"{self.spec.name}-{v.name}",
                # WaitForFirstConsumer: the claim binds only once its pod is scheduled
                metadata=self._meta(f"{self.spec.name}-{v.name}", {"pulumi.com/skipAwait": "true"}),
                spec={
                    "accessModes": ["ReadWriteOnce"],
                    "storageClassName": "gp3",
                    "resources": {"requests": {"storage": f"{v.size_gib}Gi"}},
                },
                # Retained data survives a config mistake: a destroy or replacement stops at the claim
                opts=pulumi.ResourceOptions.merge(self._opts, pulumi.ResourceOptions(protect=self.retention.protect)),
            )
            for v in self.spec.volumes
            if v.claim is None
        ]

    def _pod_template(self, account: pulumi.Input[str], claims: list[PersistentVolumeClaim]) -> dict[str, Any]:
        spec = self.spec
        pod_security, container_security = security_contexts(spec)
        env: list[dict[str, Any]] = [{"name": k, "value": v} for k, v in sorted(spec.env.items())]
        env += [
            {"name": k, "valueFrom": {"secretKeyRef": {"name": ref.secret, "key": ref.key}}}
            for k, ref in sorted(spec.secret_env.items())
        ]
        mounts: list[dict[str, Any]] = []
        volumes: list[dict[str, Any]] = []
        own_claims = iter(claims)
        for v in spec.volumes:
            mounts.append({"name": v.name, "mountPath": v.mount_path, **({"subPath": v.sub_path} if v.sub_path else {})})
            if v.claim is not None:
                volumes.append({"name": v.name, "persistentVolumeClaim": {"claimName": v.claim}})
            elif claims:
                volumes.append({"name": v.name, "persistentVolumeClaim": {"claimName": next(own_claims).metadata.name}})
        for f in spec.files:
            mounts.append(
                {"name": f.name, "mountPath": f.mount_path, "readOnly": True, **({"subPath": f.sub_path} if f.sub_path else {})}
            )
            source = (
                {"configMap": {"name": f.config_map, "defaultMode": f.mode}}
                if f.config_map is not None
                else {"secret": {"secretName": f.secret, "defaultMode": f.mode}}
            )
            volumes.append({"name": f.name, **source})
        for name, path in sorted(spec.scratch_paths.items()):
            mounts.append({"name": name, "mountPath": path})
            volumes.append({"name": name, "emptyDir": {}})
        for name, path in sorted(spec.memory_scratch_paths.items()):
            mounts.append({"name": name, "mountPath": path})
            volumes.append({"name": name, "emptyDir": {"medium": "Memory"}})

        container: dict[str, Any] = {
            "name": spec.name,
            "image": spec.image,
            "imagePullPolicy": "IfNotPresent",
            "ports": [{"name": p.name, "containerPort": p.container_port, "protocol": "TCP"} for p in spec.ports],
            "env": env,
            "resources": resource_requirements(spec.resources, spec.extra_resources),
            "livenessProbe": probe(spec.liveness),
            "readinessProbe": probe(spec.readiness),
            "securityContext": container_security,
            "volumeMounts": mounts,
        }
        if spec.startup:
            container["startupProbe"] = probe(spec.startup)
        if spec.command:
            container["command"] = spec.command
        if spec.args:
            container["args"] = spec.args

        pod: dict[str, Any] = {
            "serviceAccountName": account,
            "automountServiceAccountToken": spec.automount_token,
            "securityContext": pod_security,
            "terminationGracePeriodSeconds": spec.termination_grace_seconds,
            "containers": [container],
            "volumes": volumes,
        }
        if spec.node_selector:
            pod["nodeSelector"] = spec.node_selector
        if spec.tolerations:
            pod["tolerations"] = spec.tolerations
        if spec.may_run_several:
            pod["topologySpreadConstraints"] = [
                {
                    "maxSkew": 1,
                    "topologyKey": "topology.kubernetes.io/zone",
                    "whenUnsatisfiable": "ScheduleAnyway",
                    "labelSelector": {"matchLabels": self.selector},
                }
            ]
        metadata: dict[str, Any] = {"labels": self.labels}
        if spec.pod_annotations:
            metadata["annotations"] = spec.pod_annotations
        return {"metadata": metadata, "spec": pod}

    def _deployment(self, pod: dict[str, Any]) -> dict[str, Any]:
        spec = self.spec
        out: dict[str, Any] = {"selector": {"matchLabels": self.selector}, "template": pod, "revisionHistoryLimit": 5}
        if spec.replicas is not None:
            out["replicas"] = spec.replicas
        # A ReadWriteOnce volume cannot attach to two nodes during a rolling update
        single_node = any(v.claim is None for v in spec.volumes)
        strategy = spec.strategy or ("Recreate" if single_node else "RollingUpdate")
        out["strategy"] = {"type": strategy}
        return out

    def _statefulset(self, pod: dict[str, Any]) -> dict[str, Any]:
        spec = self.spec
        return {
            "serviceName": spec.name,
            "replicas": spec.replicas if spec.replicas is not None else 1,
            "selector": {"matchLabels": self.selector},
            "template": pod,
            "podManagementPolicy": "OrderedReady",
            **({"persistentVolumeClaimRetentionPolicy": self.retention.claim_retention} if spec.volumes else {}),
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": v.name, "labels": self.labels},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "storageClassName": "gp3",
                        "resources": {"requests": {"storage": f"{v.size_gib}Gi"}},
                    },
                }
                for v in spec.volumes
            ],
        }
