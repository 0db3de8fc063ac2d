"""What a reviewer reads: the resource tree, counts, how to reach things, and the cost.

Works on masked resource entries (`render.entries`) and the cost estimate's dict, so the
same functions describe a run in-process or one read back from `resources.json`.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from components.endpoint_access import is_placeholder, set_cidr_command
from tools.preview.front_door import release_lines, url_lines
from tools.preview.neuron import capacity_lines
from tools.preview.policy import policy_markdown, policy_text
from tools.preview.cost_section import cost_markdown, cost_text, md, money
from tools.preview.render import is_kubernetes_object
from tools.preview.teardown import teardown_markdown, teardown_text

DEFAULT_NAMESPACE = "genai"
FIRST_LOCAL_PORT = 3000  # privileged service ports (80) are forwarded from here: open-webui 3000:80


@dataclass
class Summary:
    """Everything the summary shows, extracted once."""

    stack: str
    region: str
    entries: list[dict[str, Any]]
    cost: dict[str, Any]
    outputs: dict[str, Any]
    secret_outputs: set[str]
    findings: list[str] = field(default_factory=list)
    policy: dict[str, Any] | None = None

    @property
    def namespace(self) -> str:
        value = self.outputs.get("namespace")
        return value if isinstance(value, str) and value else DEFAULT_NAMESPACE

    def text(self) -> str:
        return render_text(self)

    def markdown(self) -> str:
        return render_markdown(self)


# extraction

def tree_lines(all_entries: list[dict[str, Any]]) -> list[str]:
    """The resources as a tree by parent URN, components first, each level sorted."""
    urns = {e["urn"] for e in all_entries}
    children: dict[str, list[dict[str, Any]]] = {}
    roots: dict[str, None] = {}
    for entry in all_entries:
        children.setdefault(entry["parent"], []).append(entry)
        if entry["parent"] not in urns:
            roots[entry["parent"]] = None
    lines: list[str] = []

    def walk(urn: str, prefix: str) -> None:
        kids = sorted(children.get(urn, []), key=lambda e: (e["custom"], e["type"], e["name"]))
        for i, entry in enumerate(kids):
            last = i == len(kids) - 1
            count = _descendants(entry["urn"], children)
            suffix = f"  ({count} resources)" if not entry["custom"] else ""
            lines.append(f"{prefix}{'└── ' if last else '├── '}{entry['name']}  [{entry['type']}]{suffix}")
            walk(entry["urn"], prefix + ("    " if last else "│   "))

    for root in sorted(roots):
        lines.append(f"{root.rsplit('::', 1)[-1] or '(root)'}  [{_urn_type(root)}]")
        walk(root, "")
    return lines


def _urn_type(urn: str) -> str:
    parts = urn.split("::")
    return parts[2].rsplit("$", 1)[-1] if len(parts) >= 4 else "?"


def _descendants(urn: str, children: dict[str, list[dict[str, Any]]]) -> int:
    return sum(1 + _descendants(c["urn"], children) for c in children.get(urn, []))


def type_counts(all_entries: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return sorted(Counter(e["type"] for e in all_entries).items())


@dataclass(frozen=True)
class ServiceExposure:
    """A Service and the command that reaches it from a laptop."""

    namespace: str
    name: str
    type: str
    ports: tuple[tuple[int, str], ...]
    forwards: tuple[tuple[int, int], ...]

    @property
    def port_text(self) -> str:
        return ", ".join(f"{port}/{protocol}" for port, protocol in self.ports)

    @property
    def command(self) -> str:
        pairs = " ".join(f"{local}:{port}" for local, port in self.forwards)
        return f"kubectl port-forward -n {self.namespace} svc/{self.name} {pairs}"


def _services(all_entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in all_entries if e["type"] == "kubernetes:core/v1:Service" and is_kubernetes_object(e)]


def _meta(entry: dict[str, Any]) -> dict[str, Any]:
    return entry["inputs"].get("metadata") or {}


def services(all_entries: list[dict[str, Any]], namespace: str) -> list[ServiceExposure]:
    """Services of `namespace` with local ports for port-forward: the service port itself, or
    3000 and up for privileged ports; privileged ones choose first (open-webui 3000:80, then
    langfuse 3001:3000, as the workshop page does)."""
    found = []
    for entry in _services(all_entries):
        meta = _meta(entry)
        if meta.get("namespace", "default") != namespace:
            continue
        spec = entry["inputs"].get("spec") or {}
        ports = tuple((int(p["port"]), str(p.get("protocol", "TCP"))) for p in spec.get("ports") or [] if "port" in p)
        found.append((str(meta.get("name") or entry["name"]), str(spec.get("type", "ClusterIP")), ports))
    used: set[int] = set()
    local: dict[tuple[str, int], int] = {}
    for name, _, ports in sorted(found, key=lambda s: (min((p for p, _ in s[2]), default=0) >= 1024, s[0])):
        for port, _ in ports:
            candidate = port if port >= 1024 else FIRST_LOCAL_PORT
            while candidate in used:
                candidate += 1
            used.add(candidate)
            local[(name, port)] = candidate
    return [
        ServiceExposure(namespace, name, type_, ports, tuple((local[(name, p)], p) for p, _ in ports))
        for name, type_, ports in sorted(found)
    ]


def load_balancers(all_entries: list[dict[str, Any]]) -> list[str]:
    """Services of type LoadBalancer and Ingresses, anywhere in the cluster."""
    found = []
    for entry in _services(all_entries):
        spec = entry["inputs"].get("spec") or {}
        if spec.get("type") == "LoadBalancer":
            meta = _meta(entry)
            ports = ", ".join(str(p.get("port")) for p in spec.get("ports") or [])
            sources = ", ".join(spec.get("loadBalancerSourceRanges") or []) or "0.0.0.0/0 (no loadBalancerSourceRanges)"
            scheme = (meta.get("annotations") or {}).get("service.beta.kubernetes.io/aws-load-balancer-scheme", "")
            found.append(f"Service {meta.get('namespace', 'default')}/{meta.get('name') or entry['name']} "
                         f"(LoadBalancer{', ' + scheme if scheme else ''}) ports {ports}, open to {sources}")
    for entry in all_entries:
        if entry["type"].endswith(":Ingress") and is_kubernetes_object(entry):
            meta = _meta(entry)
            hosts = sorted({r.get("host", "*") for r in (entry["inputs"].get("spec") or {}).get("rules") or []})
            found.append(f"Ingress {meta.get('namespace', 'default')}/{meta.get('name') or entry['name']} "
                         f"hosts {', '.join(hosts) or '*'}")
    return found


def endpoint_access(all_entries: list[dict[str, Any]]) -> list[str]:
    """How the EKS API endpoint of each cluster can be reached."""
    lines = []
    for entry in all_entries:
        if entry["type"] != "aws:eks/cluster:Cluster":
            continue
        vpc = entry["inputs"].get("vpcConfig") or {}
        private = vpc.get("endpointPrivateAccess", False)
        public = vpc.get("endpointPublicAccess", True)
        cidrs = vpc.get("publicAccessCidrs") or ["0.0.0.0/0"]
        name = entry["inputs"].get("name") or entry["name"]
        if public and "0.0.0.0/0" in cidrs:
            mode = "public to the whole internet (0.0.0.0/0)" + (" and private in the VPC" if private else "")
        elif public:
            mode = f"public only from {', '.join(cidrs)}" + (", and private inside the VPC" if private else "")
            mode += "".join(f"; WARNING: {c} is a placeholder, set the IP `pulumi up` runs from before deploying: "
                            f"{set_cidr_command(i)}" for i, c in enumerate(cidrs) if is_placeholder(c))
        elif private:
            mode = ("private only: reachable from inside the VPC (VPN, bastion or SSM); `pulumi up` must run there "
                    "too (cluster.deployerInVpc, checked by preflight)")
        else:
            mode = "no endpoint access configured"
        lines.append(f"{name}: {mode}")
    return lines


def output_lines(outputs: dict[str, Any], secret: set[str]) -> list[tuple[str, str]]:
    shown = []
    for key in sorted(outputs):
        if key in secret:
            value = "[secret]"
        elif isinstance(outputs[key], str):
            value = outputs[key]
        else:
            value = json.dumps(outputs[key], sort_keys=True)
        shown.append((key, value if len(value) <= 100 else value[:97] + "..."))
    return shown


# rendering

def _kubeconfig_commands(s: Summary) -> list[str]:
    cluster = s.outputs.get("clusterName")
    if not isinstance(cluster, str):
        return []
    return [f"aws eks update-kubeconfig --name {cluster} --region {s.region}",
            "pulumi stack output kubeconfig --show-secrets > kubeconfig.json"]


def render_text(s: Summary) -> str:
    entries, cost = s.entries, s.cost
    k8s = sum(1 for e in entries if is_kubernetes_object(e))
    out = [f"Preview of stack {s.stack} ({s.region}): {len(entries)} resources, {k8s} Kubernetes objects, "
           f"estimated {money(cost['monthlyTotal'])}/month", ""]

    out += ["Resources by component", *("  " + line for line in tree_lines(entries)), ""]
    out += ["Counts by type", *(f"  {count:4d}  {type_}" for type_, count in type_counts(entries)),
            f"  {len(entries):4d}  total", ""]

    out.append("Exposure")
    exposed = services(entries, s.namespace)
    out.append(f"  Services in namespace {s.namespace} (ClusterIP: reach them with kubectl port-forward):")
    width = max((len(x.name) for x in exposed), default=0)
    for x in exposed:
        out.append(f"    {x.name:<{width}}  {x.type:<12} {x.port_text:<22} {x.command}")
    if not exposed:
        out.append("    (none)")
    lbs = load_balancers(entries)
    out.append("  Load balancers / ingresses: " + ("none; nothing in the cluster is reachable from the internet" if not lbs else ""))
    out += [f"    {line}" for line in lbs]
    out += [f"  Front door URL {line}" for line in url_lines(s.outputs)] + [f"  {line}" for line in release_lines(entries)]
    for line in endpoint_access(entries):
        out.append(f"  EKS API endpoint {line}")
    kubeconfig = _kubeconfig_commands(s)
    if kubeconfig:
        out.append(f"  kubeconfig: {kubeconfig[0]}  (or: {kubeconfig[1]})")
    out.append("")

    out.append("Stack outputs")
    out += [f"  {key}: {value}" for key, value in output_lines(s.outputs, s.secret_outputs)]
    out.append("")

    neuron = capacity_lines(entries)
    if neuron:
        out += ["Neuron capacity (the instance type that launches)", *(f"  {line}" for line in neuron), ""]
    if s.policy is not None:
        out += policy_text(s.policy) + [""]
    out += teardown_text(entries, s.region) + [""]
    out += cost_text(cost)
    if s.findings:
        out += ["", "Warnings: secret values in plain Kubernetes fields (readable by anyone who can read the object)"]
        out += [f"  {where}" for where in s.findings]
    return "\n".join(out) + "\n"


def render_markdown(s: Summary) -> str:
    entries, cost = s.entries, s.cost
    k8s = sum(1 for e in entries if is_kubernetes_object(e))
    out = [f"# Preview of stack `{s.stack}`", "",
           f"{len(entries)} resources ({k8s} Kubernetes objects) in {s.region}; "
           f"estimated **{money(cost['monthlyTotal'])}/month** on demand.", ""]

    out += ["## Exposure", "", f"Services in namespace `{s.namespace}`:", ""]
    exposed = services(entries, s.namespace)
    if exposed:
        out += ["| service | type | ports | reach it with |", "|---|---|---|---|"]
        out += [f"| {x.name} | {x.type} | {x.port_text} | `{x.command}` |" for x in exposed]
    else:
        out.append("(none)")
    lbs = load_balancers(entries)
    out += ["", "Load balancers / ingresses: " + ("none; nothing in the cluster is reachable from the internet." if not lbs else "")]
    out += [f"- {md(line)}" for line in lbs]
    out += [f"- Front door URL {md(line)}" for line in url_lines(s.outputs)] + [f"- {md(line)}" for line in release_lines(entries)]
    out.append("")
    out += [f"EKS API endpoint {line}." for line in endpoint_access(entries)]
    kubeconfig = _kubeconfig_commands(s)
    if kubeconfig:
        out += ["", f"kubeconfig: `{kubeconfig[0]}` (or `{kubeconfig[1]}`)"]
    out.append("")

    neuron = capacity_lines(entries)
    if neuron:
        out += ["## Neuron capacity", "", *(f"- {md(line)}" for line in neuron), ""]
    if s.policy is not None:
        out += policy_markdown(s.policy)
    out += teardown_markdown(entries, s.region)
    out += cost_markdown(cost)

    out += ["## Resources by component", "", "```", *tree_lines(entries), "```", ""]
    out += ["## Counts by type", "", "| type | count |", "|---|---:|"]
    out += [f"| `{type_}` | {count} |" for type_, count in type_counts(entries)]
    out += [f"| **total** | **{len(entries)}** |", ""]

    out += ["## Stack outputs", "", "| output | value |", "|---|---|"]
    out += [f"| {key} | `{md(value)}` |" for key, value in output_lines(s.outputs, s.secret_outputs)]
    out.append("")
    if s.findings:
        out += ["## Warnings", "", "Secret values in plain Kubernetes fields (readable by anyone who can read the object):", ""]
        out += [f"- `{where}`" for where in s.findings]
        out.append("")
    return "\n".join(out)
