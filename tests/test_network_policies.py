"""The NetworkPolicies of `genai` allow exactly the intended traffic graph, no more and no less.

The allowed edges come from the evaluator in `netpol_graph` (the rendered policies as a cluster
evaluates them, pods and probed outside endpoints); the intended graph is built here from the
stack settings, so any model list works.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from typing import Any, Optional

import pytest

from components.front_door.plan import EXPOSED, active_routes, alb_subnet_cidrs
from components.front_door.routes import NAMESPACES
from components.k8s.network import POD_IDENTITY_AGENT
from components.k8s.spec import USERS_NAMESPACE_LABEL
from components.settings import Settings, parse_settings
from components.settings.loading import read_stack_file
from netpol_graph import (
    NAME_LABEL,
    NAMESPACE,
    Cluster,
    Edge,
    Endpoint,
    Policy,
    Port,
    cluster_of,
    direction_allows,
    selector_matches,
)
from tools.offline.engine import PROJECT_DIR, run_stack
from tools.offline.records import StackRun

# The apps that call AWS APIs or download (models, embeddings, web content) over HTTPS
HTTPS_APPS = ("litellm", "langfuse", "langfuse-worker", "open-webui")


# --- The intended graph, from the settings ----------------------------------------------------


def stack_settings(stack: str, overrides: Optional[dict[str, Any]] = None) -> Settings:
    config, _ = read_stack_file(PROJECT_DIR / f"Pulumi.{stack}.yaml")
    return parse_settings({**config, **(overrides or {})}, f"Pulumi.{stack}.yaml")


def intended_app_edges(settings: Settings) -> set[tuple[str, str]]:
    """Who calls whom, by app name ("users" = the user-ingress namespaces)."""
    models = [m.service_name for m in settings.models]
    edges = {
        ("users", "open-webui"), ("users", "langfuse"),
        ("open-webui", "litellm"), ("custom-server", "litellm"), ("open-webui", "custom-server"),
        ("litellm-keys", "litellm"),  # the Job that registers each client's key
        ("litellm", "langfuse"),
        # The agent server: models through LiteLLM, traces and metrics to Langfuse web, memory in PostgreSQL
        ("custom-server", "langfuse"), ("custom-server", "postgres"),
        *{("litellm", m) for m in models},
        *{(c, "postgres") for c in ("langfuse", "langfuse-worker", "litellm", "open-webui")},
        *{(c, "clickhouse") for c in ("langfuse", "langfuse-worker")},
        *{(c, "langfuse-redis") for c in ("langfuse", "langfuse-worker")},
        ("litellm", "cache-redis"),
        # Prometheus scrapes the gateway and every model server on their /metrics port; Grafana reaches none
        ("prometheus", "litellm"), *{("prometheus", m) for m in models},
    }
    if settings.open_webui.replicas > 1:  # Redis-backed websockets and config sync
        edges.add(("open-webui", "cache-redis"))
    return edges


def exposed_apps(settings: Settings) -> set[str]:
    """The `genai` pods behind the front door's hosts (Grafana's route leads to `monitoring`)."""
    return {EXPOSED[route][0] for route in active_routes(settings.front_door) if route not in NAMESPACES}


def probe_addresses(settings: Settings) -> tuple[str | None, str]:
    """(an address in the ALB's subnets or None without a front door, a VPC address outside them)."""
    cidrs = [ipaddress.ip_network(c) for c in alb_subnet_cidrs(settings)] if settings.front_door.enabled else []
    alb = str(cidrs[0].network_address + 9) if cidrs else None
    vpc = ipaddress.ip_network(settings.network.vpc_cidr)
    other = next(a for a in (n.network_address + 9 for n in vpc.subnets(new_prefix=24)) if not any(a in c for c in cidrs))
    return alb, str(other)


def cluster_for(run: StackRun, settings: Settings) -> Cluster:
    alb, other = probe_addresses(settings)
    return cluster_of(run, alb, other)


def intended_edges(settings: Settings, cluster: Cluster) -> set[Edge]:
    """The app graph on every container port of the destination, plus DNS for every pod, HTTPS
    to the internet and the Pod Identity agent for the pods that need them."""
    models = {m.service_name for m in settings.models}
    ports = {p.name: p.ports for p in cluster.pods}
    edges = {(src, dst, str(port)) for src, dst in intended_app_edges(settings) for port in ports[dst]}
    # The front door: the ALB reaches exactly the exposed pods, on their (only) container port
    edges |= {("alb", app, str(port)) for app in exposed_apps(settings) for port in ports[app]}
    for pod in cluster.pods:
        edges |= {(pod.name, "kube-dns", "53/UDP"), (pod.name, "kube-dns", "53/TCP")}
        if pod.name in HTTPS_APPS or pod.name in models:
            # 0.0.0.0/0 on 443 is every address on 443: the internet, and also the link-local
            # agent (which listens on 80 only) and in-VPC addresses such as the API endpoint
            edges |= {(pod.name, dst, "443/TCP") for dst in ("internet", "pod-identity-agent", "kube-apiserver")}
        if pod.service_account in cluster.pod_identity_service_accounts:
            edges.add((pod.name, "pod-identity-agent", "80/TCP"))
    return edges


def assert_graph(run: StackRun, settings: Settings) -> None:
    cluster = cluster_for(run, settings)
    actual, intended = cluster.edges(), intended_edges(settings, cluster)
    missing, extra = sorted(intended - actual), sorted(actual - intended)
    assert not missing and not extra, f"{run.stack}: missing edges {missing}; extra edges {extra}"


# --- Tests --------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def clusters(stack_runs) -> dict[str, Cluster]:
    return {stack: cluster_for(run, stack_settings(stack)) for stack, run in stack_runs.items()}


@pytest.fixture
def cluster(stack_run, clusters) -> Cluster:
    return clusters[stack_run.stack]


def test_the_genai_pods_are_the_expected_apps(stack_run, cluster):
    settings = stack_settings(stack_run.stack)
    apps = {"litellm", "langfuse", "langfuse-worker", "open-webui", "custom-server",
            "postgres", "clickhouse", "langfuse-redis", "cache-redis", "litellm-keys"}
    assert sorted(p.name for p in cluster.pods) == sorted(apps | {m.service_name for m in settings.models})


def test_traffic_graph_is_exactly_the_intended_one(stack_run):
    assert_graph(stack_run, stack_settings(stack_run.stack))


def test_in_namespace_edges_match_the_app_graph(stack_run, cluster):
    """The same comparison restricted to the app graph, for a readable failure."""
    pod_names = {p.name for p in cluster.pods} | {"users", "prometheus", "grafana"}
    actual = {(s, d) for s, d, _ in cluster.edges() if s in pod_names and d in pod_names}
    assert actual == intended_app_edges(stack_settings(stack_run.stack))


def test_default_deny_in_genai(cluster):
    deny = [p for p in cluster.policies if p.namespace == NAMESPACE and p.is_default_deny]
    assert len(deny) == 1, [p.name for p in cluster.policies]
    assert deny[0].spec == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def test_every_pod_has_exactly_one_policy_of_its_own(cluster):
    own = [p for p in cluster.policies if p.namespace == NAMESPACE and not p.is_default_deny]
    for pod in cluster.pods:
        selecting = [p.name for p in own if p.selects(pod)]
        assert len(selecting) == 1, f"{pod.name} is selected by {selecting}"
        (policy,) = [p for p in own if p.selects(pod)]
        assert sorted(policy.types) == ["Egress", "Ingress"], f"{policy.name} must govern both directions"
    for policy in own:
        assert any(policy.selects(pod) for pod in cluster.pods), f"{policy.name} selects no pod"


def test_no_one_sided_rule(cluster):
    """Each pod-to-pod allowance is mirrored at the other end: a lone egress is a broken call,
    a lone ingress is an unused opening."""
    assert not cluster.one_sided(), sorted(cluster.one_sided())


def test_dns_only_to_kube_dns(stack_run, cluster):
    edges = cluster.edges()
    for pod in cluster.pods:
        assert {(pod.name, "kube-dns", "53/UDP"), (pod.name, "kube-dns", "53/TCP")} <= edges
        for other in ("kube-system-other", "other-namespace-pod", "users-namespace-pod"):
            assert not {e for e in edges if e[0] == pod.name and e[1] == other and e[2].startswith("53/")}


def test_internet_egress_only_https_and_only_where_needed(stack_run, cluster):
    settings = stack_settings(stack_run.stack)
    needs = set(HTTPS_APPS) | {m.service_name for m in settings.models}
    edges = cluster.edges()
    assert {s for s, d, _ in edges if d == "internet"} == needs
    assert {port for _, d, port in edges if d == "internet"} == {"443/TCP"}
    assert not {e for e in edges if e[1] == "ec2-metadata"}, "no pod may reach the instance metadata service"
    # Structurally: every ipBlock in genai is 0.0.0.0/0 on 443/TCP or the agent's /32 on 80/TCP, no `except`
    for policy in (p for p in cluster.policies if p.namespace == NAMESPACE):
        for rule in policy.spec.get("egress") or []:
            blocks = [peer["ipBlock"] for peer in rule.get("to") or [] if "ipBlock" in peer]
            for block in blocks:
                assert "except" not in block and len(rule["to"]) == 1, policy.name
                expected = {"0.0.0.0/0": [{"protocol": "TCP", "port": 443}],
                            POD_IDENTITY_AGENT: [{"protocol": "TCP", "port": 80}]}
                assert rule.get("ports") == expected.get(block["cidr"]), (policy.name, block, rule.get("ports"))
        # Ingress ipBlocks: only the ALB's subnets, only on the exposed pods' container ports
        settings = stack_settings(stack_run.stack)
        alb_cidrs = sorted(alb_subnet_cidrs(settings)) if settings.front_door.enabled else []
        for rule in policy.spec.get("ingress") or []:
            blocks = [peer["ipBlock"] for peer in rule.get("from") or [] if "ipBlock" in peer]
            if blocks:
                app = policy.spec["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
                assert app in exposed_apps(settings), policy.name
                assert sorted(b["cidr"] for b in blocks) == alb_cidrs and all("except" not in b for b in blocks)
                assert rule["ports"] == [{"protocol": "TCP", "port": int(p.split("/")[0])}
                                         for p in map(str, cluster.pod(app).ports)], policy.name


def test_pod_identity_agent_only_for_associated_service_accounts(cluster):
    assert cluster.pod_identity_service_accounts, "no Pod Identity associations in genai"
    reaching = {s for s, d, port in cluster.edges() if d == "pod-identity-agent" and port == "80/TCP"}
    associated = {p.name for p in cluster.pods if p.service_account in cluster.pod_identity_service_accounts}
    assert reaching == associated
    assert {p.service_account for p in cluster.pods} >= cluster.pod_identity_service_accounts


def test_users_reach_only_the_uis(cluster):
    assert {(d, port) for s, d, port in cluster.edges() if s == "users"} == {
        ("open-webui", str(p)) for p in cluster.pod("open-webui").ports
    } | {("langfuse", str(p)) for p in cluster.pod("langfuse").ports}
    assert not selector_matches({"matchLabels": USERS_NAMESPACE_LABEL}, cluster.pods[0].namespace_labels), (
        "the genai namespace itself must not count as a user namespace"
    )


def test_two_models_get_edges_from_litellm_only():
    overrides = {"genai-platform:models": [
        {"name": "llama-3.2-1b", "hfModelId": "meta-llama/Llama-3.2-1B-Instruct", "slug": "llama3-2-1b"},
        {"name": "qwen-0.5b", "hfModelId": "Qwen/Qwen2.5-0.5B-Instruct", "gated": False, "neuronCores": 1},
    ], "genai-platform:neuron": {"instanceTypes": ["inf2.xlarge"], "minSize": 0, "maxSize": 2, "desiredSize": 2}}
    run = run_stack("dev", overrides=overrides)
    settings = stack_settings("dev", overrides)
    assert [m.service_name for m in settings.models] == ["vllm-llama3-2-1b", "vllm-qwen-0-5b"]
    assert_graph(run, settings)
    edges = cluster_for(run, settings).edges()
    for model in ("vllm-llama3-2-1b", "vllm-qwen-0-5b"):
        assert {s for s, d, _ in edges if d == model} == {"litellm", "prometheus"}
        assert (model, "internet", "443/TCP") in edges


def test_the_comparison_catches_a_widened_and_a_narrowed_policy(clusters):
    cluster, settings = clusters["dev"], stack_settings("dev")

    def with_rules(name: str, key: str, rules: list) -> Cluster:
        policies = [dataclasses.replace(p, spec={**p.spec, key: rules}) if p.name == name else p for p in cluster.policies]
        return dataclasses.replace(cluster, policies=policies)

    widened = with_rules("postgres", "ingress", [{}])  # anyone, any port
    extra = widened.edges() - intended_edges(settings, widened)
    assert ("users", "postgres", "5432/TCP") in extra
    assert not any(s == "vllm-llama3-2-1b" for s, _, _ in extra), "vLLM's own egress still blocks it"
    narrowed = with_rules("litellm", "egress", [])
    missing = intended_edges(settings, narrowed) - narrowed.edges()
    assert ("litellm", "postgres", "5432/TCP") in missing and ("litellm", "kube-dns", "53/UDP") in missing


# --- The evaluator itself -----------------------------------------------------------------------


def test_evaluator_semantics():
    a = Endpoint("a", "ns", "10.0.0.1", (Port("TCP", 80, "http"),), {"app": "a"}, {NAME_LABEL: "ns"})
    b = Endpoint("b", "ns", "10.0.0.2", (Port("TCP", 8080, "http"),), {"app": "b"}, {NAME_LABEL: "ns"})
    ext = Endpoint("x", "other", "10.0.0.3", (), {"app": "a"}, {NAME_LABEL: "other"})
    allow_b_from_a = Policy("b", "ns", {"podSelector": {"matchLabels": {"app": "b"}}, "policyTypes": ["Ingress"],
                                         "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "a"}}}],
                                                      "ports": [{"port": "http"}]}]})
    assert direction_allows([allow_b_from_a], b, "Ingress", a, b.ports[0])      # named port
    assert not direction_allows([allow_b_from_a], b, "Ingress", ext, b.ports[0])  # same labels, other ns
    assert direction_allows([allow_b_from_a], a, "Ingress", b, a.ports[0])      # a is not isolated
    deny = Policy("deny", "ns", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})
    assert deny.is_default_deny and not direction_allows([deny], a, "Egress", b, b.ports[0])
    world = {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}], "ports": [{"port": 8000, "endPort": 9000}]}
    egress = Policy("a", "ns", {"podSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["a"]}]},
                                "policyTypes": ["Egress"], "egress": [world]})
    assert not direction_allows([egress], a, "Egress", b, b.ports[0])  # excepted range
    assert direction_allows([egress], a, "Egress", Endpoint("w", None, "8.8.8.8", ()), Port("TCP", 8443))
    assert not direction_allows([egress], a, "Egress", Endpoint("w", None, "8.8.8.8", ()), Port("UDP", 8443))


def test_front_door_sources_reach_only_the_exposed_ports(stack_run, cluster):
    """The ALB reaches the exposed pods on their ports and nothing else; other VPC addresses and
    internet clients reach nothing (the allow-list is enforced at the ALB, the rest here)."""
    settings = stack_settings(stack_run.stack)
    from_outside = {(s, d, p) for s, d, p in cluster.edges() if s in ("alb", "vpc-other-host", "internet-client")}
    expected = {("alb", app, str(port)) for app in exposed_apps(settings) for port in cluster.pod(app).ports}
    assert from_outside == expected
    assert exposed_apps(settings) >= {"open-webui", "langfuse"}, "the committed stacks turn the front door on"


@pytest.mark.parametrize("overrides", [
    {"scheme": "internal", "allowedCidrs": []},
    {"hosts": {"api": "api"}, "waf": {"enabled": True}, "allowedCidrs": []},
], ids=["internal-no-api", "internet-facing-api-waf"])
def test_front_door_graph_follows_scheme_and_routes(overrides):
    """Internal ALBs sit in the private subnets; the api host opens LiteLLM to the ALB, and only then."""
    front_door = {"enabled": True, "domain": "genai.example.com", "hostedZoneId": "ZPLACEHOLDERREPLACEME1",
                  "allowedCidrs": ["203.0.113.0/24"], **overrides}
    config = {"genai-platform:frontDoor": front_door}
    run = run_stack("dev", overrides=config)
    settings = stack_settings("dev", config)
    assert_graph(run, settings)
    edges = cluster_for(run, settings).edges()
    assert (("alb", "litellm", "4000/TCP") in edges) == ("api" in (overrides.get("hosts") or {}))


def test_no_front_door_no_outside_sources():
    config = {"genai-platform:frontDoor": {"enabled": False}}
    run = run_stack("dev", overrides=config)
    settings = stack_settings("dev", config)
    assert_graph(run, settings)
    # genai's policies (monitoring's own admit the VPC to the operator's webhook port)
    assert not any("ipBlock" in peer for p in cluster_for(run, settings).policies if p.namespace == NAMESPACE
                   for rule in p.spec.get("ingress") or [] for peer in rule.get("from") or [])
