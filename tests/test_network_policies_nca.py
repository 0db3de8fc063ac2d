"""A second, independent NetworkPolicy evaluator: network-config-analyzer (IBM's NCA, PyPI 2.1.0)
computes the connectivity of the rendered policies and workloads, and must agree edge for edge
(source, destination, port) with the intended call graph of tests/test_network_policies.py.

NCA lives in its own venv (.venv-nca, its pins clash with the project's), installed by `make test`,
which sets REQUIRE_NCA=1 so a missing install fails instead of skipping.
"""

from __future__ import annotations

import copy
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from components.k8s.spec import APP_LABEL, USERS_NAMESPACE_LABEL
from k8s_manifests import manifests
from netpol_graph import NAME_LABEL, NAMESPACE, cluster_of
from test_network_policies import intended_app_edges, stack_settings

NCA = Path(os.environ.get("NCA_EXECUTABLE", Path(__file__).resolve().parents[1] / ".venv-nca" / "bin" / "nca"))
KINDS = ("Namespace", "NetworkPolicy", "Deployment", "StatefulSet", "DaemonSet", "Job")
MONITORING_NS = "monitoring"
USERS_NS = "ingress-nginx"
# `genai/litellm[Deployment] => genai/postgres[StatefulSet] : {protocols:TCP,dst_ports:5432}`
LINE = re.compile(r"^(?P<src>\S+) => (?P<dst>\S+) : (?P<conn>.+)$")


def users_namespace() -> list[dict]:
    """A namespace labelled for user ingress with one pod in it: "users" in the intended graph."""
    labels = {APP_LABEL: "users"}
    return [
        {"apiVersion": "v1", "kind": "Namespace",
         "metadata": {"name": USERS_NS, "labels": {NAME_LABEL: USERS_NS, **USERS_NAMESPACE_LABEL}}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "users", "namespace": USERS_NS},
         "spec": {"selector": {"matchLabels": labels},
                  "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "c", "image": "c"}]}}}},
    ]


def prometheus_pod(objects: list[dict]) -> list[dict]:
    """Prometheus as kube-prometheus-stack labels its pod (the Helm release's objects are not rendered
    offline), in the rendered `monitoring` namespace, under that namespace's rendered policies."""
    if not any(o["kind"] == "Namespace" and o["metadata"]["name"] == MONITORING_NS for o in objects):
        return []
    labels = {"app.kubernetes.io/name": "prometheus"}
    return [{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "prometheus", "namespace": MONITORING_NS},
             "spec": {"selector": {"matchLabels": labels},
                      "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "c", "image": "c"}]}}}}]


def nca_edges(objects: list[dict], workdir: Path) -> set[tuple[str, str, str]]:
    """(source app, destination app, "port/TCP") between the genai pods and the users' pod, per NCA."""
    if not NCA.exists():
        if os.environ.get("REQUIRE_NCA"):
            pytest.fail(f"network-config-analyzer is not installed at {NCA}: run `make test`")
        pytest.skip(f"network-config-analyzer not installed ({NCA}); `make test` installs it")
    resources = workdir / "resources.yaml"
    resources.write_text(yaml.safe_dump_all(objects))
    result = subprocess.run([str(NCA), "--connectivity", "-r", str(resources), "-o", "txt_no_fw_rules",
                             "--output_endpoints", "deployments"], capture_output=True, text=True, timeout=300,
                            cwd=workdir)
    assert result.returncode == 0, result.stdout + result.stderr
    edges = set()
    for line in result.stdout.splitlines():
        match = LINE.match(line.strip())
        if not match:
            continue
        src, dst = (re.sub(r"\[\w+\]$", "", match[k]) for k in ("src", "dst"))
        if not all(e.startswith((f"{NAMESPACE}/", f"{USERS_NS}/", f"{MONITORING_NS}/prometheus")) for e in (src, dst)):
            continue  # IP ranges and kube-system: tests/test_network_policies.py covers those
        ports = re.fullmatch(r"\{protocols:TCP,dst_ports:([\d,-]+)\}", match["conn"])
        assert ports, f"unexpected connection for {src} => {dst}: {match['conn']}"
        for port in ports[1].split(","):
            assert "-" not in port, f"{src} => {dst}: a port range {port}"
            edges.add((src.split("/")[1], dst.split("/")[1], f"{port}/TCP"))
    return edges


def intended(run) -> set[tuple[str, str, str]]:
    ports = {pod.name: pod.ports for pod in cluster_of(run).pods}
    return {(src, dst, str(port)) for src, dst in intended_app_edges(stack_settings(run.stack))
            for port in ports[dst]}


def rendered_objects(run) -> list[dict]:
    objects = [o for o in manifests(run) if o["kind"] in KINDS]
    return objects + users_namespace() + prometheus_pod(objects)


def test_nca_agrees_edge_for_edge_with_the_intended_graph(dev, tmp_path):
    expected = intended(dev)
    actual = nca_edges(rendered_objects(dev), tmp_path)
    assert actual == expected, f"NCA only: {sorted(actual - expected)}; intended only: {sorted(expected - actual)}"


def test_nca_sees_a_narrowed_policy(dev, tmp_path):
    """The comparison can fail: with PostgreSQL's ingress rules gone, NCA loses exactly its edges."""
    objects = copy.deepcopy(rendered_objects(dev))
    (policy,) = [o for o in objects if o["kind"] == "NetworkPolicy"
                 and o["spec"].get("podSelector", {}).get("matchLabels", {}).get(APP_LABEL) == "postgres"]
    policy["spec"]["ingress"] = []
    missing = intended(dev) - nca_edges(objects, tmp_path)
    assert missing == {e for e in intended(dev) if e[1] == "postgres"} and missing, missing
