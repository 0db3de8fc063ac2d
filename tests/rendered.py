"""Read the rendered platform: workloads, containers, env with secretKeyRefs resolved."""

from __future__ import annotations

from typing import Any, Iterator

import yaml

from tools.offline.records import ResourceRecord, StackRun

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")


def kind(record: ResourceRecord) -> str:
    return record.type.rsplit(":", 1)[-1]


def k8s(run: StackRun, kind_name: str, name: str | None = None, namespace: str = "genai") -> list[ResourceRecord]:
    """Kubernetes objects of a kind (optionally by metadata.name) in a namespace."""
    return [
        r for r in run.kubernetes_objects()
        if kind(r) == kind_name
        and (name is None or r.inputs["metadata"]["name"] == name)
        and r.inputs["metadata"].get("namespace", namespace) == namespace
    ]


def workloads(run: StackRun, namespace: str = "genai") -> list[ResourceRecord]:
    return [r for r in run.kubernetes_objects() if kind(r) in WORKLOAD_KINDS
            and r.inputs["metadata"].get("namespace") == namespace]


def workload(run: StackRun, name: str) -> ResourceRecord:
    (found,) = [w for w in workloads(run) if w.inputs["metadata"]["name"] == name]
    return found


def containers(record: ResourceRecord) -> Iterator[dict[str, Any]]:
    pod = record.inputs["spec"]["template"]["spec"]
    yield from pod.get("initContainers", [])
    yield from pod["containers"]


def secret_data(run: StackRun, name: str) -> dict[str, str]:
    (secret,) = k8s(run, "Secret", name)
    return secret.inputs["stringData"]


def env(run: StackRun, workload_name: str) -> dict[str, str]:
    """The main container's env with every secretKeyRef resolved to the rendered Secret value."""
    (container,) = workload(run, workload_name).inputs["spec"]["template"]["spec"]["containers"]
    return container_env(run, container)


def container_env(run: StackRun, container: dict[str, Any]) -> dict[str, str]:
    """A container's env with every secretKeyRef resolved to the rendered Secret value."""
    out = {}
    for item in container.get("env", []):
        if "value" in item:
            out[item["name"]] = item["value"]
        else:
            ref = item["valueFrom"]["secretKeyRef"]
            out[item["name"]] = secret_data(run, ref["name"])[ref["key"]]
    return out


def gateway_config(run: StackRun) -> dict[str, Any]:
    (config_map,) = k8s(run, "ConfigMap", "litellm-config")
    return yaml.safe_load(config_map.inputs["data"]["config.yaml"])


def postgres_init(run: StackRun) -> tuple[dict[str, tuple[str, int]], dict[str, str]]:
    """What the PostgreSQL pod initialises from: the files of the ConfigMap mounted at
    /docker-entrypoint-initdb.d (name -> (text, the volume's defaultMode)) and the container env."""
    pod = workload(run, "postgres").inputs["spec"]["template"]["spec"]
    (mount,) = [m for m in pod["containers"][0]["volumeMounts"] if m["mountPath"] == "/docker-entrypoint-initdb.d"]
    (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    (config_map,) = k8s(run, "ConfigMap", volume["configMap"]["name"])
    mode = volume["configMap"].get("defaultMode", 0o644)
    return {name: (text, mode) for name, text in config_map.inputs["data"].items()}, env(run, "postgres")
