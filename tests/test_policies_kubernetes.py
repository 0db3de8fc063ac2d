"""Policy-pack rules for Kubernetes objects: hand-made workloads, Services, Namespaces and
NetworkPolicies that pass every rule until one thing changes, and real dev-run Deployments broken
(see tests/policy_cases.py)."""

from __future__ import annotations

from typing import Iterable, Optional

import pytest
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from policies.genai_policies import pack
from policies.offline import PackConfigError, evaluate, resolve_config
from policy_cases import (
    DELETE,
    WORKLOAD_TYPES,
    assert_only,
    assert_untouched,
    assert_variant_reports,
    container,
    covers,
    find,
    only_new,
    record,
    reported,
    rules_of,
    set_in,
    variant,
    workload,
)
from tools.offline.records import ResourceRecord

# --- hand-made workloads (builders: policy_cases.workload / container) ----------------------


@pytest.mark.parametrize("kind", WORKLOAD_TYPES)
def test_a_good_workload_passes_every_rule(kind):
    assert reported([workload(kind)]) == set()


@covers("k8s-container-resources")
@pytest.mark.parametrize("kind, res", [("requests", "cpu"), ("requests", "memory"), ("limits", "cpu"), ("limits", "memory")])
def test_container_resources(kind, res):
    broken = container()
    del broken["resources"][kind][res]
    assert_only("k8s-container-resources", workload(containers=[broken]), workload())
    init = container(name="init", livenessProbe=DELETE, readinessProbe=DELETE, resources=DELETE)
    assert_only("k8s-container-resources", workload(initContainers=[init]),
                workload(initContainers=[container(name="init", livenessProbe=DELETE, readinessProbe=DELETE)]))


@covers("k8s-container-probes")
@pytest.mark.parametrize("probe", ["livenessProbe", "readinessProbe"])
def test_container_probes(probe):
    # init containers need no probes
    init = container(name="init", livenessProbe=DELETE, readinessProbe=DELETE)
    assert_only("k8s-container-probes", workload(containers=[container(**{probe: DELETE})]),
                workload(initContainers=[init]))


PLUGIN_IMAGE = "public.ecr.aws/neuron/neuron-device-plugin:2.29.16.0"


def device_plugin(namespace: str = "kube-system", image: str = PLUGIN_IMAGE, **context) -> ResourceRecord:
    """A DaemonSet like the Neuron device plugin the platform runs: no probes, root (unless `context`)."""
    return workload("DaemonSet", name="neuron-device-plugin", namespace=namespace, containers=[container(
        image=image, livenessProbe=DELETE, readinessProbe=DELETE,
        securityContext={"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}, **context})])


def test_the_pack_exempts_the_device_plugin_and_says_why():
    plugin = device_plugin()
    report = evaluate([plugin])  # no config: the pack's own exemptions
    assert report.violations == []
    assert {(n.policy_name, n.urn) for n in report.not_applicable} == {
        ("k8s-container-probes", plugin.urn), ("k8s-container-security-context", plugin.urn)}
    assert all("exempt by the pack" in n.reason for n in report.not_applicable)
    # by digest too; and a config allowlist cannot take the platform's exemption away
    assert evaluate([device_plugin(image=PLUGIN_IMAGE.split(":")[0] + "@sha256:" + "a" * 64)]).violations == []
    assert evaluate([plugin], {"k8s-container-probes": {"exemptions": []}}).violations == []


@pytest.mark.parametrize("look_alike, rules", [
    # the same name running another image, or in another namespace, is held to every rule
    (device_plugin(image="ghcr.io/example/neuron-device-plugin:1.0"),
     {"k8s-container-probes", "k8s-container-security-context"}),
    (device_plugin(namespace="genai"), {"k8s-container-probes", "k8s-container-security-context"}),
    # the root exemption keeps privilege escalation forbidden
    (device_plugin(allowPrivilegeEscalation=True), {"k8s-container-security-context"}),
])
def test_the_device_plugin_exemption_is_narrow(look_alike, rules):
    assert rules_of(reported([look_alike])) == rules


def neuron_monitor(namespace: str = "kube-system", image: str = "public.ecr.aws/neuron/neuron-monitor:1.3.0") -> ResourceRecord:
    """A DaemonSet like the platform's neuron-monitor: privileged, with probes."""
    return workload("DaemonSet", name="neuron-monitor", namespace=namespace,
                    containers=[container(image=image, securityContext={"privileged": True})])


def test_the_pack_exempts_neuron_monitor_only_in_its_place_and_image():
    report = evaluate([neuron_monitor()])
    assert report.violations == []
    assert [n.policy_name for n in report.not_applicable] == ["k8s-container-security-context"]
    assert rules_of(reported([neuron_monitor(image="ghcr.io/example/neuron-monitor:1.3.0")])) == {
        "k8s-container-security-context"}
    assert rules_of(reported([neuron_monitor(namespace="monitoring")])) == {"k8s-container-security-context"}


def test_probe_allowlist_in_config_is_explicit_and_reported():
    agent = workload("DaemonSet", name="node-agent", namespace="kube-system",
                     containers=[container(livenessProbe=DELETE, readinessProbe=DELETE)])
    assert rules_of(reported([agent])) == {"k8s-container-probes"}
    config = {"k8s-container-probes": {"exemptions": [{
        "kind": "DaemonSet", "namespace": "kube-system", "name": "node-agent", "reason": "serves only a Unix socket"}]}}
    report = evaluate([agent], config)
    assert report.violations == []
    assert [(n.policy_name, n.urn) for n in report.not_applicable] == [("k8s-container-probes", agent.urn)]
    assert "exempt by pack config: serves only a Unix socket" in report.not_applicable[0].reason


@covers("k8s-container-security-context")
@pytest.mark.parametrize("broken, twin", [
    (workload(containers=[container(securityContext={"allowPrivilegeEscalation": False})]),
     workload(containers=[container(securityContext={"allowPrivilegeEscalation": False})],
              securityContext={"runAsNonRoot": True})),
    (workload(containers=[container(securityContext={"runAsNonRoot": False, "allowPrivilegeEscalation": False})],
              securityContext={"runAsNonRoot": True}),
     workload()),
    (workload(containers=[container(securityContext={"runAsNonRoot": True})]), workload()),
    (workload(initContainers=[container(name="init", securityContext={}, livenessProbe=DELETE, readinessProbe=DELETE)]),
     workload()),
])
def test_security_context(broken, twin):
    assert_only("k8s-container-security-context", broken, twin)


def test_security_context_allowlist_takes_kube_system_daemonsets_with_a_reason():
    root = workload("DaemonSet", name="neuron-device-plugin", namespace="kube-system",
                    containers=[container(securityContext={"allowPrivilegeEscalation": False})])
    assert rules_of(reported([root])) == {"k8s-container-security-context"}
    config = {"k8s-container-security-context": {"exemptions": [{
        "kind": "DaemonSet", "namespace": "kube-system", "name": "neuron-device-plugin",
        "reason": "writes its socket into the root-owned /var/lib/kubelet/device-plugins"}]}}
    report = evaluate([root], config)
    assert report.violations == []
    assert "k8s-container-security-context" in {n.policy_name for n in report.not_applicable}
    with pytest.raises(PackConfigError):
        resolve_config(pack.policies(), {"k8s-container-security-context": {"exemptions": [{
            "kind": "Deployment", "namespace": "genai", "name": "app", "reason": "would rather run as root"}]}})


@covers("k8s-image-tag")
@pytest.mark.parametrize("image", ["ghcr.io/example/app:latest", "ghcr.io/example/app", "redis", "localhost:5000/app"])
def test_image_tag(image):
    # a digest pins the image whatever the tag says
    assert_only("k8s-image-tag", workload(containers=[container(image=image)]),
                workload(containers=[container(image=image + "@sha256:" + "a" * 64)]),
                {"k8s-image-registry": {"allowedRegistries": ["ghcr.io", "docker.io", "localhost:5000"]}})


@covers("k8s-image-registry")
@pytest.mark.parametrize("image", ["quay.io/example/app:1.0", "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1.0",
                                   "gcr.io/example/app:1.0"])
def test_image_registry(image):
    assert_only("k8s-image-registry", workload(containers=[container(image=image)]), workload())
    allowed = {"k8s-image-registry": {"allowedRegistries": ["quay.io", "*.dkr.ecr.us-east-1.amazonaws.com", "gcr.io"]}}
    assert reported([workload(containers=[container(image=image)])], allowed) == set()


@pytest.mark.parametrize("image", [
    "public.ecr.aws/neuron/neuron-device-plugin:2.29.149.0", "docker.io/library/redis:8.2.2", "redis:8.2.2",
    "registry.k8s.io/pause:3.10", "602401143452.dkr.ecr.eu-west-1.amazonaws.com/eks/aws-ebs-csi-driver:v1.40.0",
    "index.docker.io/library/postgres:17.6",
])
def test_default_registries(image):
    assert reported([workload(containers=[container(image=image)])]) == set()


@covers("k8s-env-secrets")
@pytest.mark.parametrize("env", [
    {"name": "HF_TOKEN", "value": "hf_abc"},
    {"name": "DATABASE_URL", "value": "postgresql://u:p@db/app"},
    {"name": "LITELLM_MASTER_KEY", "value": "sk-1234"},
    {"name": "REDIS_AUTH", "value": "s3cret"},
    {"name": "db_password", "value": "x"},
    {"name": "WEBUI_SECRET_KEY", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "k"}}},
    {"name": "ENCRYPTION_KEY", "value": UNKNOWN_STRING_VALUE},  # a computed literal, unknown in preview
])
def test_env_secrets(env):
    twin_env = {"name": env["name"], "valueFrom": {"secretKeyRef": {"name": "app", "key": "k"}}}
    assert_only("k8s-env-secrets", workload(containers=[container(env=[env])]),
                workload(containers=[container(env=[twin_env, {"name": "REDIS_HOST", "value": "redis"}])]))


def test_env_secrets_allowlist_of_non_secret_names():
    tokenizers = workload(containers=[container(env=[{"name": "TOKENIZERS_PARALLELISM", "value": "false"}])])
    assert rules_of(reported([tokenizers])) == {"k8s-env-secrets"}
    assert reported([tokenizers], {"k8s-env-secrets": {"nonSecretEnvNames": ["TOKENIZERS_PARALLELISM"]}}) == set()


NEURON_TOLERATION = {"key": "aws.amazon.com/neuron", "operator": "Exists", "effect": "NoSchedule"}


def neuron_container(resource: str = "aws.amazon.com/neuroncore") -> dict:
    c = container()
    c["resources"]["requests"][resource] = 2
    c["resources"]["limits"][resource] = 2
    return c


@covers("k8s-neuron-toleration")
@pytest.mark.parametrize("resource", ["aws.amazon.com/neuroncore", "aws.amazon.com/neuron"])
def test_neuron_requests_tolerate_the_taint(resource):
    twins = [
        workload(containers=[neuron_container(resource)], tolerations=[NEURON_TOLERATION]),
        workload(containers=[neuron_container(resource)],
                 tolerations=[{"key": "aws.amazon.com/neuron", "operator": "Equal", "value": "true"}]),
    ]
    broken = [
        workload(containers=[neuron_container(resource)]),
        workload(containers=[neuron_container(resource)],
                 tolerations=[{**NEURON_TOLERATION, "effect": "NoExecute"}]),
        workload(containers=[neuron_container(resource)],
                 tolerations=[{"key": "aws.amazon.com/neuron", "operator": "Equal", "value": "false"}]),
    ]
    for twin in twins:
        for b in broken:
            assert_only("k8s-neuron-toleration", b, twin)


@covers("k8s-neuron-toleration-requests-cores")
@pytest.mark.parametrize("kind", ["Deployment", "StatefulSet", "Job"])
def test_neuron_tolerations_request_cores(kind):
    assert_only("k8s-neuron-toleration-requests-cores",
                workload(kind, tolerations=[NEURON_TOLERATION]),
                workload(kind, containers=[neuron_container()], tolerations=[NEURON_TOLERATION]))
    # tolerating everything counts as tolerating the Neuron taint
    assert rules_of(reported([workload(kind, tolerations=[{"operator": "Exists"}])])) == {
        "k8s-neuron-toleration-requests-cores"}


def test_daemonsets_may_tolerate_neuron_without_requesting_it():
    assert reported([workload("DaemonSet", tolerations=[NEURON_TOLERATION])]) == set()


SERVICE = "kubernetes:core/v1:Service"


def service(service_type: str, annotations: Optional[dict] = None) -> ResourceRecord:
    metadata = {"name": "web", "namespace": "genai", **({"annotations": annotations} if annotations else {})}
    spec = {"type": service_type, "selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}
    return record(SERVICE, f"web-{service_type}-{len(annotations or {})}",
                  {"apiVersion": "v1", "kind": "Service", "metadata": metadata, "spec": spec})


@covers("k8s-no-public-load-balancer")
@pytest.mark.parametrize("twin", [
    service("LoadBalancer", {"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"}),
    service("LoadBalancer", {"service.beta.kubernetes.io/aws-load-balancer-internal": "true"}),
    service("ClusterIP"),
])
def test_no_public_load_balancer(twin):
    assert_only("k8s-no-public-load-balancer", service("LoadBalancer"), twin)
    assert rules_of(reported([service("LoadBalancer", {
        "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing"})])) == {"k8s-no-public-load-balancer"}


NAMESPACE = "kubernetes:core/v1:Namespace"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"


def namespace(name: str = "team") -> ResourceRecord:
    return record(NAMESPACE, f"ns-{name}", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})


def network_policy(ns: str = "team", name: str = "default-deny", dependencies: Iterable[str] = (), **spec) -> ResourceRecord:
    body = {"podSelector": {}, "policyTypes": ["Ingress", "Egress"], **spec}
    return record(NETWORK_POLICY, f"{ns}-{name}", {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                                                   "metadata": {"name": name, "namespace": ns}, "spec": body},
                  dependencies=dependencies)


@covers("k8s-namespace-default-deny")
@pytest.mark.parametrize("policies", [
    [],
    [network_policy(ns="other")],
    [network_policy(name="ingress-only", policyTypes=["Ingress"])],
    [network_policy(name="some-pods", podSelector={"matchLabels": {"app": "web"}})],
    [network_policy(name="allows-ingress", ingress=[{"from": [{"podSelector": {}}]}])],
    [network_policy(name="allows-egress", egress=[{}])],
])
def test_namespace_default_deny(policies):
    ns = namespace()
    assert reported([ns, *policies]) == {("k8s-namespace-default-deny", ns.urn)}
    allow_web = network_policy(name="allow-web", podSelector={"matchLabels": {"app": "web"}}, ingress=[{}],
                               policyTypes=["Ingress"])
    assert reported([ns, network_policy(), allow_web, *policies]) == set()


def test_namespace_default_deny_matched_through_dependencies_in_preview(dev, dev_reported):
    ns = find(dev.resources, NAMESPACE, "namespace-ns")  # genai (monitoring has its own, tested alike)
    deny = [r for r in dev.resources if r.type == NETWORK_POLICY and r.inputs["metadata"]["name"] == "default-deny-all"
            and ns.urn in r.dependencies]
    assert len(deny) == 1 and ns.urn in deny[0].dependencies
    records, _ = variant(dev, NETWORK_POLICY, deny[0].name, set_in(("metadata", "namespace"), UNKNOWN_STRING_VALUE, key="both"))
    assert only_new(dev_reported, records) == set()
    # the program's genai namespace has its default-deny policy
    assert_untouched(dev_reported, "k8s-namespace-default-deny", ns.urn)


# --- a real workload of the dev run, broken ------------------------------------------------


@pytest.mark.parametrize("rule, change", [
    ("k8s-container-probes", lambda c: c.pop("livenessProbe")),
    ("k8s-container-resources", lambda c: c["resources"].pop("limits")),
    ("k8s-image-tag", lambda c: c.update(image=c["image"].rsplit(":", 1)[0])),
    ("k8s-env-secrets", lambda c: c.setdefault("env", []).append({"name": "OPENAI_API_KEY", "value": "sk-live"})),
])
def test_real_workload_variants(dev, dev_reported, rule, change):
    deployments = dev.of_type("kubernetes:apps/v1:Deployment")
    if not deployments:
        pytest.skip("the program creates no Deployment yet")
    name = deployments[0].name

    def edit(record: ResourceRecord) -> None:
        change(record.inputs["spec"]["template"]["spec"]["containers"][0])

    assert_variant_reports(dev, dev_reported, rule, "kubernetes:apps/v1:Deployment", name, edit)
