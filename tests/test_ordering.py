"""What waits for what, read from the recorded dependencies: nodes after the add-ons they need,
the apps after CoreDNS and metrics-server, each pod after its Pod Identity association."""

from __future__ import annotations

import dataclasses

import pytest

from tools.offline.eks_api import EksApiError, check_node_group

ADDON = "aws:eks/addon:Addon"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
NODE_ADDONS = {"vpc-cni", "kube-proxy", "eks-pod-identity-agent"}
WORKLOADS = ("kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet")


def addons(run) -> dict[str, str]:
    """Add-on name -> URN."""
    return {r.inputs["addonName"]: r.urn for r in run.of_type(ADDON)}


def test_every_node_group_waits_directly_for_the_node_addons(stack_run):
    urns = addons(stack_run)
    groups = stack_run.of_type(NODE_GROUP)
    assert {g.name for g in groups} >= {"genai-" + stack_run.stack + "-system-ng", "genai-" + stack_run.stack + "-neuron-ng"}
    for group in groups:
        missing = {a for a in NODE_ADDONS if urns[a] not in group.dependencies}
        assert not missing, f"{group.name} does not wait for {missing}"


def test_engine_refuses_a_node_group_that_could_boot_before_the_cni(dev):
    group = dev.one(NODE_GROUP, "neuron")
    cni = addons(dev)["vpc-cni"]
    check_node_group(group, dev.resources)  # as the program registers it
    eager = dataclasses.replace(group, dependencies=[u for u in group.dependencies if u != cni])
    with pytest.raises(EksApiError, match="cni plugin not initialized"):
        check_node_group(eager, dev.resources)


def test_metrics_server_addon_runs_after_the_system_nodes(stack_run):
    metrics = stack_run.one(ADDON, "metrics-server")
    system = stack_run.one(NODE_GROUP, "system")
    assert metrics.inputs["addonName"] == "metrics-server"
    assert system.urn in metrics.dependencies


def test_the_platform_namespace_waits_for_coredns_and_metrics_server(stack_run):
    urns = addons(stack_run)
    (namespace,) = [r for r in stack_run.of_type("kubernetes:core/v1:Namespace") if r.inputs["metadata"]["name"] == "genai"]
    assert {urns["coredns"], urns["metrics-server"]} <= set(namespace.dependencies)
    # every app object lives in that namespace, so it comes after it (and after CoreDNS)
    for record in stack_run.kubernetes_objects():
        if record.inputs.get("metadata", {}).get("namespace") == "genai":
            assert namespace.urn in record.dependencies, record.name


def test_each_pod_starts_after_its_pod_identity_association(stack_run):
    associations = {(r.inputs["namespace"], r.inputs["serviceAccount"]): r.urn
                    for r in stack_run.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")}
    checked = set()
    for workload in (r for r in stack_run.resources if r.type in WORKLOADS):
        pod = workload.inputs["spec"]["template"]["spec"]
        key = (workload.inputs["metadata"]["namespace"], pod["serviceAccountName"])
        if key in associations:
            assert associations[key] in workload.dependencies, f"{workload.name} may start before {key}'s association"
            checked.add(key)
    # Helm releases run their own pods: the release waits for its chart's service account's association
    for release in stack_run.of_type("kubernetes:helm.sh/v3:Release"):
        values = release.inputs.get("values") or {}
        account = (values.get("serviceAccount") or values.get("rbac", {}).get("serviceAccount") or {}).get("name")
        key = (release.inputs.get("namespace"), account)
        if key in associations:
            assert associations[key] in release.dependencies, f"{release.name} may start before {key}'s association"
            checked.add(key)
    assert checked == set(associations)  # every association serves a workload of the program
