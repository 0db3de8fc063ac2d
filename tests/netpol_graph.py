"""A NetworkPolicy evaluator for the tests: which traffic the rendered policies of `genai` allow.

Edges are derived from the rendered NetworkPolicies as a cluster evaluates them: traffic from
pod S to pod D on port P flows only if S's egress allows D on P (or S is selected by no
Egress policy) AND D's ingress allows S on P (or D is selected by no Ingress policy). P is
D's container port (policies see traffic after the Service's port translation). Pods are the
workloads' pod templates, identified by their `app.kubernetes.io/name` label.

Outside endpoints are probed as well: "users" (a pod in a namespace labelled
`genai-platform/user-ingress: "true"`), kube-dns and another kube-system pod, a pod in an
unlabelled namespace, and IP addresses (the internet, the EC2 metadata service, the EKS Pod
Identity agent). Sources outside the cluster are probed too: the front door's ALB (an address in
the ALB's subnets: with IP targets it connects to pods from there), another address in the VPC
and a client on the internet.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any, Optional

from components.k8s.network import POD_IDENTITY_AGENT
from components.k8s.spec import APP_LABEL, USERS_NAMESPACE_LABEL
from k8s_manifests import manifests
from tools.offline.records import StackRun

NAMESPACE = "genai"
NAME_LABEL = "kubernetes.io/metadata.name"
POD_IP = "10.10.42.7"  # any address in the VPC: pods get VPC addresses (VPC CNI)
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job")


# --- Endpoints and policies ---------------------------------------------------------------------


@dataclass(frozen=True)
class Port:
    protocol: str
    number: int
    name: Optional[str] = None

    def __str__(self) -> str:
        return f"{self.number}/{self.protocol}"


@dataclass(frozen=True)
class Endpoint:
    """A pod (namespace set) or a bare IP address (namespace None)."""

    name: str
    namespace: Optional[str]
    ip: str
    ports: tuple[Port, ...]
    labels: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    namespace_labels: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    service_account: Optional[str] = None


@dataclass(frozen=True)
class Policy:
    name: str
    namespace: str
    spec: dict[str, Any] = field(hash=False, compare=False)

    @property
    def types(self) -> list[str]:
        spec = self.spec
        return spec.get("policyTypes") or (["Ingress"] + (["Egress"] if "egress" in spec else []))

    def selects(self, pod: Endpoint) -> bool:
        return pod.namespace == self.namespace and selector_matches(self.spec.get("podSelector") or {}, pod.labels)

    @property
    def is_default_deny(self) -> bool:
        spec = self.spec
        return (not selector_has_terms(spec.get("podSelector") or {}) and sorted(self.types) == ["Egress", "Ingress"]
                and not spec.get("ingress") and not spec.get("egress"))


# --- How a cluster evaluates them ---------------------------------------------------------------


def selector_has_terms(selector: dict[str, Any]) -> bool:
    return bool(selector.get("matchLabels") or selector.get("matchExpressions"))


def selector_matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A LabelSelector: matchLabels AND every matchExpression; an empty selector matches all."""
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        ok = {
            "In": key in labels and labels[key] in values,
            "NotIn": key not in labels or labels[key] not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[op]
        if not ok:
            return False
    return True


def peer_matches(peer: dict[str, Any], other: Endpoint, policy_namespace: str) -> bool:
    """A NetworkPolicyPeer against an endpoint. ipBlock matches by address, pods included (the
    VPC CNI and Calico apply ipBlock to pod IPs); selectors never match bare addresses."""
    if "ipBlock" in peer:
        address = ipaddress.ip_address(other.ip)
        block = peer["ipBlock"]
        return address in ipaddress.ip_network(block["cidr"]) and not any(
            address in ipaddress.ip_network(e) for e in block.get("except") or []
        )
    if other.namespace is None:
        return False
    if "namespaceSelector" in peer:
        if not selector_matches(peer["namespaceSelector"] or {}, other.namespace_labels):
            return False
    elif other.namespace != policy_namespace:
        return False
    return selector_matches(peer.get("podSelector") or {}, other.labels)


def port_matches(rule_ports: Optional[list[dict[str, Any]]], port: Port) -> bool:
    """Rule ports (absent or empty: all) against the destination's port; named ports resolve
    against the destination's container port names."""
    if not rule_ports:
        return True
    for rp in rule_ports:
        if rp.get("protocol", "TCP") != port.protocol:
            continue
        value = rp.get("port")
        if value is None:
            return True
        if isinstance(value, str):
            if value == port.name:
                return True
        elif value <= port.number <= rp.get("endPort", value):
            return True
    return False


def direction_allows(policies: list[Policy], pod: Endpoint, direction: str, other: Endpoint, port: Port) -> bool:
    """Does `pod` allow traffic to (Egress) / from (Ingress) `other` on the destination `port`?"""
    selecting = [p for p in policies if direction in p.types and p.selects(pod)]
    if not selecting:
        return True  # not isolated in this direction
    rules_key, peers_key = ("egress", "to") if direction == "Egress" else ("ingress", "from")
    for policy in selecting:
        for rule in policy.spec.get(rules_key) or []:
            peers = rule.get(peers_key)
            peer_ok = not peers or any(peer_matches(peer, other, policy.namespace) for peer in peers)
            if peer_ok and port_matches(rule.get("ports"), port):
                return True
    return False


Edge = tuple[str, str, str]  # (source, destination, "port/protocol")


@dataclass
class Cluster:
    """The rendered genai pods and policies, plus the outside endpoints they may reach."""

    pods: list[Endpoint]
    policies: list[Policy]
    outside: list[Endpoint]
    users: Endpoint
    pod_identity_service_accounts: set[str]
    sources: list[Endpoint] = field(default_factory=list)
    monitoring: list[Endpoint] = field(default_factory=list)
    """Pods of the `monitoring` namespace that call genai pods (Prometheus) or must not (Grafana)."""

    def pod(self, name: str) -> Endpoint:
        (found,) = [p for p in self.pods if p.name == name]
        return found

    def egress_ok(self, src: Endpoint, dst: Endpoint, port: Port) -> bool:
        return direction_allows(self.policies, src, "Egress", dst, port)

    def ingress_ok(self, dst: Endpoint, src: Endpoint, port: Port) -> bool:
        return direction_allows(self.policies, dst, "Ingress", src, port)

    def edges(self) -> set[Edge]:
        """Every (source, destination, port) that both ends allow."""
        found = set()
        pairs = [(s, d) for s in self.pods for d in self.pods + self.outside]
        pairs += [(s, d) for s in [self.users, *self.sources] for d in self.pods]
        pairs += [(s, d) for s in self.monitoring for d in self.pods]
        for src, dst in pairs:
            for port in dst.ports:
                if self.egress_ok(src, dst, port) and self.ingress_ok(dst, src, port):
                    found.add((src.name, dst.name, str(port)))
        return found

    def one_sided(self) -> set[str]:
        """Pod-to-pod rules that one end allows and the other denies: dead or broken config."""
        out = set()
        for src in self.pods:
            for dst in self.pods:
                for port in dst.ports:
                    egress, ingress = self.egress_ok(src, dst, port), self.ingress_ok(dst, src, port)
                    if egress != ingress:
                        side = f"{src.name} egress" if egress else f"{dst.name} ingress"
                        out.add(f"{src.name} -> {dst.name}:{port}: only {side} allows it")
        return out


def pods_of(objects: list[dict[str, Any]], namespace_labels: dict[str, str]) -> list[Endpoint]:
    pods = []
    for obj in objects:
        if obj["kind"] not in WORKLOAD_KINDS or obj["metadata"].get("namespace") != NAMESPACE:
            continue
        template = obj["spec"]["template"]
        labels = template["metadata"]["labels"]
        ports = tuple(
            Port(p.get("protocol", "TCP"), p["containerPort"], p.get("name"))
            for c in template["spec"]["containers"] for p in c.get("ports") or []
        )
        pods.append(Endpoint(labels[APP_LABEL], NAMESPACE, POD_IP, ports, labels, namespace_labels,
                             template["spec"].get("serviceAccountName")))
    return pods


def outside_endpoints() -> tuple[Endpoint, list[Endpoint]]:
    """(users, the other endpoints genai pods might try to reach)."""
    kube_system = {NAME_LABEL: "kube-system"}
    users = Endpoint("users", "ingress-nginx", "10.10.99.9", (),
                     {"app.kubernetes.io/name": "ingress-nginx"}, {NAME_LABEL: "ingress-nginx", **USERS_NAMESPACE_LABEL})
    outside = [
        Endpoint("kube-dns", "kube-system", "10.10.0.10", (Port("UDP", 53), Port("TCP", 53)),
                 {"k8s-app": "kube-dns"}, kube_system),
        Endpoint("kube-system-other", "kube-system", "10.10.0.11", (Port("UDP", 53), Port("TCP", 53), Port("TCP", 8080)),
                 {"k8s-app": "metrics-server"}, kube_system),
        Endpoint("users-namespace-pod", "ingress-nginx", "10.10.99.10", (Port("TCP", 8080),),
                 {"app.kubernetes.io/name": "ingress-nginx"}, {NAME_LABEL: "ingress-nginx", **USERS_NAMESPACE_LABEL}),
        Endpoint("other-namespace-pod", "default", "10.10.77.7", (Port("TCP", 8080), Port("TCP", 53)),
                 {"app.kubernetes.io/name": "postgres"}, {NAME_LABEL: "default"}),
        # The EKS API endpoint's ENIs sit in the VPC and answer on 443
        Endpoint("kube-apiserver", None, "10.10.0.100", (Port("TCP", 443),)),
        Endpoint("internet", None, "203.0.113.10", (Port("TCP", 443), Port("TCP", 80), Port("TCP", 22))),
        Endpoint("ec2-metadata", None, "169.254.169.254", (Port("TCP", 80),)),
        Endpoint("pod-identity-agent", None, POD_IDENTITY_AGENT.split("/")[0], (Port("TCP", 80), Port("TCP", 443))),
    ]
    return users, outside


def outside_sources(alb_ip: Optional[str], vpc_other_ip: str) -> list[Endpoint]:
    """Clients outside the cluster: the ALB (when there is a front door), a VPC host outside the
    ALB's subnets, and a client on the internet."""
    sources = [Endpoint("vpc-other-host", None, vpc_other_ip, ()), Endpoint("internet-client", None, "203.0.113.77", ())]
    if alb_ip:
        sources.append(Endpoint("alb", None, alb_ip, ()))
    return sources


def monitoring_endpoints() -> list[Endpoint]:
    """Prometheus and Grafana pods as kube-prometheus-stack labels them, in `monitoring`."""
    labels = {NAME_LABEL: "monitoring"}
    return [
        Endpoint("prometheus", "monitoring", "10.10.55.5", (Port("TCP", 9090),),
                 {"app.kubernetes.io/name": "prometheus"}, labels),
        Endpoint("grafana", "monitoring", "10.10.55.6", (Port("TCP", 3000),),
                 {"app.kubernetes.io/name": "grafana"}, labels),
    ]


def cluster_of(run: StackRun, alb_ip: Optional[str] = None, vpc_other_ip: str = "10.10.250.9") -> Cluster:
    objects = manifests(run)
    (namespace,) = [o for o in objects if o["kind"] == "Namespace" and o["metadata"]["name"] == NAMESPACE]
    namespace_labels = {**namespace["metadata"].get("labels", {}), NAME_LABEL: NAMESPACE}
    policies = [Policy(o["metadata"]["name"], o["metadata"]["namespace"], o["spec"])
                for o in objects if o["kind"] == "NetworkPolicy"]
    associations = {
        r.inputs["serviceAccount"]
        for r in run.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
        if r.inputs["namespace"] == NAMESPACE
    }
    users, outside = outside_endpoints()
    return Cluster(pods_of(objects, namespace_labels), policies, outside, users, associations,
                   outside_sources(alb_ip, vpc_other_ip), monitoring_endpoints())
