"""Kubernetes rules: workload hygiene, images, secrets in env, Neuron scheduling, exposure,
default-deny networking.

Workloads are the pod-owning kinds below; their pod spec is read from the type's template path.
"Every container" means `containers` and `initContainers`, except for probes, which only
long-running `containers` need. Helm releases and `yaml/v2` config groups are not expanded
here: their objects are only visible when registered as resources.
"""

from __future__ import annotations

import fnmatch
import re
from typing import Any, Iterator, Mapping, Optional

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from .common import (
    as_list,
    dig,
    exemptions_schema,
    find_exemption,
    has_key,
    is_map,
    known_or,
    type_name,
)

POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "kubernetes:apps/v1:Deployment": ("spec", "template", "spec"),
    "kubernetes:apps/v1:StatefulSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:DaemonSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:ReplicaSet": ("spec", "template", "spec"),
    "kubernetes:core/v1:ReplicationController": ("spec", "template", "spec"),
    "kubernetes:batch/v1:Job": ("spec", "template", "spec"),
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "kubernetes:core/v1:Pod": ("spec",),
}
DAEMON_SET = "kubernetes:apps/v1:DaemonSet"
SERVICE = "kubernetes:core/v1:Service"
NAMESPACE = "kubernetes:core/v1:Namespace"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"

NEURON_TAINT_KEY = "aws.amazon.com/neuron"
NEURON_TAINT_VALUE = "true"
NEURON_RESOURCES = ("aws.amazon.com/neuroncore", "aws.amazon.com/neuron", "aws.amazon.com/neurondevice")

DEFAULT_ALLOWED_REGISTRIES = [
    "public.ecr.aws",
    "ghcr.io",
    "docker.io",
    "registry.k8s.io",
    "602401143452.dkr.ecr.*.amazonaws.com",
]
DOCKER_HUB_ALIASES = ("docker.io", "index.docker.io", "registry-1.docker.io")
DEFAULT_FORBIDDEN_TAGS = ["latest"]
DEFAULT_SECRET_ENV_PATTERN = r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|DATABASE_URL|_AUTH"

INTERNAL_LB_ANNOTATIONS = {
    "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
    "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
}

# The Neuron device plugin serves no HTTP endpoint to probe: documented in the pack config
DEVICE_PLUGIN_PROBE_EXEMPTION = {
    "kind": "DaemonSet",
    "namespace": "kube-system",
    "name": "neuron-device-plugin",
    "reason": "Upstream Neuron device plugin: a gRPC socket on the node, no HTTP endpoint to probe; "
    "the kubelet re-registers it when it restarts.",
}


# --- reading workloads ---------------------------------------------------------------------


class Workload:
    """A pod-owning object: its kind, namespace/name and pod spec."""

    def __init__(self, args: ResourceValidationArgs, pod_spec: Mapping[str, Any]) -> None:
        self.resource_type = args.resource_type
        self.kind = type_name(args.resource_type)
        self.namespace = str(known_or(lambda: dig(args.props, "metadata", "namespace", default="default"), "<unknown>"))
        self.name = str(known_or(lambda: dig(args.props, "metadata", "name", default=args.name), args.name))
        self.pod_spec = pod_spec

    @property
    def label(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"

    def containers(self, init: bool = True) -> Iterator[tuple[str, Mapping[str, Any]]]:
        """(description, container) for each container (and init container)."""
        groups = ("containers", "initContainers") if init else ("containers",)
        for group in groups:
            for i, container in enumerate(as_list(self.pod_spec.get(group))):
                if is_map(container):
                    name = container.get("name") or f"{group}[{i}]"
                    prefix = "init container" if group == "initContainers" else "container"
                    yield f"{self.label} {prefix} '{name}'", container


def workload(args: ResourceValidationArgs) -> Optional[Workload]:
    """The workload this resource is, or None for any other type."""
    path = POD_SPEC_PATHS.get(args.resource_type)
    if path is None:
        return None
    pod_spec = dig(args.props, *path)
    return Workload(args, pod_spec) if is_map(pod_spec) else None


# --- containers ----------------------------------------------------------------------------


def _resources(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    wl = workload(args)
    if wl is None:
        return
    for label, container in wl.containers():
        missing = [
            f"{kind}.{res}"
            for kind in ("requests", "limits")
            for res in ("cpu", "memory")
            if dig(container, "resources", kind, res) in (None, "")
        ]
        if missing:
            report_violation(f"{label} does not set resources {', '.join(missing)}.")


def _probes(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    wl = workload(args)
    if wl is None:
        return
    exemptions = args.get_config().get("exemptions", [DEVICE_PLUGIN_PROBE_EXEMPTION])
    exemption = find_exemption(exemptions, wl.kind, wl.namespace, wl.name)
    if exemption is not None:
        args.not_applicable(f"{wl.label} exempt by pack config: {exemption.get('reason')}")
    for label, container in wl.containers(init=False):
        missing = [p for p in ("livenessProbe", "readinessProbe") if not is_map(container.get(p))]
        if missing:
            report_violation(f"{label} has no {' or '.join(missing)}.")


def _security_context(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    wl = workload(args)
    if wl is None:
        return
    exemption = find_exemption(args.get_config().get("exemptions", []), wl.kind, wl.namespace, wl.name)
    if exemption is not None:
        args.not_applicable(f"{wl.label} exempt by pack config: {exemption.get('reason')}")
    pod_non_root = dig(wl.pod_spec, "securityContext", "runAsNonRoot")
    for label, container in wl.containers():
        context = container.get("securityContext") or {}
        non_root = context.get("runAsNonRoot") if has_key(context, "runAsNonRoot") else pod_non_root
        problems = []
        if non_root is not True:
            problems.append("runAsNonRoot is not true (container or pod securityContext)")
        if context.get("allowPrivilegeEscalation") is not False:
            problems.append("securityContext.allowPrivilegeEscalation is not false")
        if problems:
            report_violation(f"{label}: {'; '.join(problems)}.")


def parse_image(image: str) -> tuple[str, str, Optional[str], Optional[str]]:
    """`registry/repo:tag@digest` -> (registry, repository, tag, digest); Docker Hub is implicit."""
    name, _, digest = image.partition("@")
    tag = None
    slash, colon = name.rfind("/"), name.rfind(":")
    if colon > slash:
        name, tag = name[:colon], name[colon + 1:]
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        registry, repository = first, rest
    else:
        registry, repository = "docker.io", name
    if registry in DOCKER_HUB_ALIASES:
        registry = "docker.io"
    return registry, repository, tag, digest or None


def _image_tag(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    wl = workload(args)
    if wl is None:
        return
    forbidden = [str(t) for t in args.get_config().get("forbiddenTags", DEFAULT_FORBIDDEN_TAGS)]
    for label, container in wl.containers():
        image = container.get("image")
        if not isinstance(image, str) or not image:
            report_violation(f"{label} has no image.")
            continue
        _, _, tag, digest = parse_image(image)
        if digest:
            continue
        if tag is None:
            report_violation(f"{label} image {image!r} has no tag (means :latest): pin a version or digest.")
        elif tag in forbidden:
            report_violation(f"{label} image {image!r} uses the moving tag :{tag}: pin a version or digest.")


def registry_allowed(registry: str, allowed: list[str]) -> bool:
    """`registry` matches one of the allowed names / patterns (`*` wildcards)."""
    registry = registry.lower()
    return any(fnmatch.fnmatchcase(registry, pattern.lower()) for pattern in allowed)


def _image_registry(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    wl = workload(args)
    if wl is None:
        return
    allowed = [str(r) for r in args.get_config().get("allowedRegistries", DEFAULT_ALLOWED_REGISTRIES)]
    for label, container in wl.containers():
        image = container.get("image")
        if not isinstance(image, str) or not image:
            continue  # k8s-image-tag reports a missing image
        registry = parse_image(image)[0]
        if not registry_allowed(registry, allowed):
            report_violation(f"{label} image {image!r} comes from {registry}, not an allowed registry {allowed}.")


def _env_secrets(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    wl = workload(args)
    if wl is None:
        return
    config = args.get_config()
    pattern = re.compile(str(config.get("secretEnvNamePattern", DEFAULT_SECRET_ENV_PATTERN)), re.IGNORECASE)
    not_secret = {str(n) for n in config.get("nonSecretEnvNames", [])}
    for label, container in wl.containers():
        for env in as_list(container.get("env")):
            if not is_map(env):
                continue
            name = str(env.get("name") or "")
            if not pattern.search(name) or name in not_secret:
                continue
            if has_key(env, "value"):
                # A computed value (unknown in preview) inlined in the spec is a literal all the same
                if known_or(lambda e=env: e["value"] not in (None, ""), True):
                    report_violation(
                        f"{label} sets {name} to a literal value: reference a Secret (valueFrom.secretKeyRef)."
                    )
                    continue
            source = env.get("valueFrom")
            if is_map(source) and not is_map(source.get("secretKeyRef")) and source.get("configMapKeyRef"):
                report_violation(f"{label} reads {name} from a ConfigMap: keep it in a Secret (valueFrom.secretKeyRef).")


# --- Neuron scheduling ---------------------------------------------------------------------


def requests_neuron(wl: Workload) -> list[str]:
    """The Neuron resources (cores / devices) any container requests or limits."""
    found = set()
    for _, container in wl.containers():
        for kind in ("requests", "limits"):
            amounts = dig(container, "resources", kind)
            if not is_map(amounts):
                continue
            for resource in NEURON_RESOURCES:
                if has_key(amounts, resource) and str(amounts[resource]) not in ("0", ""):
                    found.add(resource)
    return sorted(found)


def tolerates_neuron(pod_spec: Mapping[str, Any]) -> bool:
    """A toleration matches the taint aws.amazon.com/neuron=true:NoSchedule."""
    for toleration in as_list(pod_spec.get("tolerations")):
        if not is_map(toleration):
            continue
        key, operator = toleration.get("key") or "", toleration.get("operator") or "Equal"
        effect = toleration.get("effect") or ""
        if effect not in ("", "NoSchedule"):
            continue
        if operator == "Exists" and key in ("", NEURON_TAINT_KEY):
            return True
        if operator == "Equal" and key == NEURON_TAINT_KEY and toleration.get("value") == NEURON_TAINT_VALUE:
            return True
    return False


def _neuron_toleration(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    wl = workload(args)
    if wl is None:
        return
    resources = requests_neuron(wl)
    if resources and not tolerates_neuron(wl.pod_spec):
        report_violation(
            f"{wl.label} requests {', '.join(resources)} but does not tolerate the taint "
            f"{NEURON_TAINT_KEY}={NEURON_TAINT_VALUE}:NoSchedule, so it can never be scheduled on a Neuron node."
        )


def _neuron_toleration_requests(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    wl = workload(args)
    if wl is None or args.resource_type == DAEMON_SET:
        return  # DaemonSets (the device plugin, node agents) tolerate the taint by design
    if tolerates_neuron(wl.pod_spec) and not requests_neuron(wl):
        report_violation(
            f"{wl.label} tolerates the {NEURON_TAINT_KEY} taint but requests no aws.amazon.com/neuroncore: it would "
            "occupy an accelerator node without using the accelerator."
        )


# --- exposure and networking ---------------------------------------------------------------


def _no_public_load_balancer(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != SERVICE or dig(args.props, "spec", "type") != "LoadBalancer":
        return
    annotations = dig(args.props, "metadata", "annotations", default={})
    if any(str(annotations.get(k, "")).lower() == v for k, v in INTERNAL_LB_ANNOTATIONS.items()):
        return
    name = dig(args.props, "metadata", "name", default=args.name)
    report_violation(
        f"Service {name} is a LoadBalancer without an internal annotation: it would be internet-facing. Annotate "
        "service.beta.kubernetes.io/aws-load-balancer-scheme: internal, or use ClusterIP behind an internal ingress."
    )


def is_default_deny(policy_props: Mapping[str, Any]) -> bool:
    """Selects every pod, covers Ingress and Egress, allows nothing."""
    spec = policy_props.get("spec") or {}
    selector = spec.get("podSelector") or {}
    if not is_map(selector):
        return False
    labels = selector.get("matchLabels")
    if (is_map(labels) and len(labels) > 0) or as_list(selector.get("matchExpressions")):
        return False
    types = {str(t) for t in as_list(spec.get("policyTypes"))}
    return {"Ingress", "Egress"} <= types and not as_list(spec.get("ingress")) and not as_list(spec.get("egress"))


def _namespace_default_deny(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    namespaces = [r for r in args.resources if r.resource_type == NAMESPACE]
    policies = [r for r in args.resources if r.resource_type == NETWORK_POLICY and is_default_deny(r.props)]
    for namespace in namespaces:
        name = known_or(lambda n=namespace: dig(n.props, "metadata", "name"), None)
        covered = False
        for policy in policies:
            target = known_or(lambda p=policy: dig(p.props, "metadata", "namespace", default="default"), None)
            if target is None:  # preview: the namespace's name is not known yet
                covered = any(d.urn == namespace.urn for d in policy.dependencies)
            else:
                covered = target == name
            if covered:
                break
        if not covered:
            report_violation(
                f"Namespace {name or namespace.name} has no default-deny NetworkPolicy (podSelector {{}}, "
                "policyTypes [Ingress, Egress], no rules): pods there accept and send any traffic.",
                namespace.urn,
            )


# --- the policies --------------------------------------------------------------------------


def policies() -> list:
    """The Kubernetes rules."""
    return [
        ResourceValidationPolicy(
            name="k8s-container-resources",
            description="Every container sets CPU and memory requests and limits.",
            enforcement_level=EnforcementLevel.MANDATORY,
            validate=_resources,
        ),
        ResourceValidationPolicy(
            name="k8s-container-probes",
            description=(
                "Every (non-init) container has a livenessProbe and a readinessProbe; kube-system DaemonSets "
                "without an HTTP endpoint are exempt only through the pack config allowlist."
            ),
            enforcement_level=EnforcementLevel.MANDATORY,
            config_schema=PolicyConfigSchema(
                properties={
                    "exemptions": {
                        **exemptions_schema(
                            "kube-system DaemonSets exempt from the probe rule, each with the reason "
                            "(e.g. an upstream agent that serves no HTTP endpoint)."
                        ),
                        "default": [DEVICE_PLUGIN_PROBE_EXEMPTION],
                    }
                }
            ),
            validate=_probes,
        ),
        ResourceValidationPolicy(
            name="k8s-container-security-context",
            description="Every container runs as non-root (container or pod level) with allowPrivilegeEscalation false.",
            enforcement_level=EnforcementLevel.MANDATORY,
            config_schema=PolicyConfigSchema(
                properties={
                    "exemptions": {
                        **exemptions_schema("kube-system DaemonSets that must run as root, each with the reason."),
                        "default": [],
                    }
                }
            ),
            validate=_security_context,
        ),
        ResourceValidationPolicy(
            name="k8s-image-tag",
            description="Container images are pinned: a version tag or a digest, never untagged or :latest.",
            enforcement_level=EnforcementLevel.MANDATORY,
            config_schema=PolicyConfigSchema(
                properties={
                    "forbiddenTags": {
                        "type": "array", "items": {"type": "string"}, "default": DEFAULT_FORBIDDEN_TAGS,
                        "description": "Moving tags that do not count as pinned.",
                    }
                }
            ),
            validate=_image_tag,
        ),
        ResourceValidationPolicy(
            name="k8s-image-registry",
            description="Container images come only from the allowed registries (pack config allowedRegistries).",
            enforcement_level=EnforcementLevel.MANDATORY,
            config_schema=PolicyConfigSchema(
                properties={
                    "allowedRegistries": {
                        "type": "array", "items": {"type": "string", "minLength": 1},
                        "default": DEFAULT_ALLOWED_REGISTRIES,
                        "description": "Registry hosts; '*' matches any characters (Docker Hub is docker.io).",
                    }
                }
            ),
            validate=_image_registry,
        ),
        ResourceValidationPolicy(
            name="k8s-env-secrets",
            description="Secret-looking env vars (KEY, TOKEN, SECRET, PASSWORD, ...) come from a Secret, never a literal.",
            enforcement_level=EnforcementLevel.MANDATORY,
            config_schema=PolicyConfigSchema(
                properties={
                    "secretEnvNamePattern": {
                        "type": "string", "default": DEFAULT_SECRET_ENV_PATTERN,
                        "description": "Regex (case-insensitive search) for env var names that hold secrets.",
                    },
                    "nonSecretEnvNames": {
                        "type": "array", "items": {"type": "string"}, "default": [],
                        "description": "Env var names that match the pattern but hold no secret (e.g. TOKENIZERS_PARALLELISM).",
                    },
                }
            ),
            validate=_env_secrets,
        ),
        ResourceValidationPolicy(
            name="k8s-neuron-toleration",
            description="Pods requesting Neuron cores/devices tolerate the aws.amazon.com/neuron NoSchedule taint.",
            enforcement_level=EnforcementLevel.MANDATORY,
            validate=_neuron_toleration,
        ),
        ResourceValidationPolicy(
            name="k8s-neuron-toleration-requests-cores",
            description="Pods tolerating the aws.amazon.com/neuron taint request NeuronCores (DaemonSets exempt).",
            enforcement_level=EnforcementLevel.MANDATORY,
            validate=_neuron_toleration_requests,
        ),
        ResourceValidationPolicy(
            name="k8s-no-public-load-balancer",
            description="Services of type LoadBalancer are internal (aws-load-balancer-scheme: internal).",
            enforcement_level=EnforcementLevel.MANDATORY,
            validate=_no_public_load_balancer,
        ),
        StackValidationPolicy(
            name="k8s-namespace-default-deny",
            description="Every namespace the program creates has a default-deny NetworkPolicy (ingress and egress).",
            enforcement_level=EnforcementLevel.MANDATORY,
            validate=_namespace_default_deny,
        ),
    ]
