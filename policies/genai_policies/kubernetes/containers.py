"""Kubernetes container rules: resources, probes, security context, pinned images from allowed
registries, and no secrets inlined in env."""

from __future__ import annotations

import fnmatch
import re
from typing import Any, Iterator, Mapping, Optional

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from ..common import as_list, dig, exemptions_schema, has_key, is_map, known_or
from .workloads import PlatformExemption, Workload, container_rule, workload

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

# The platform's own exemptions (the pack's, not a stack's): the upstream Neuron device plugin, as
# components/neuron_device_plugin.py runs it from AWS's public ECR repository
NEURON_DEVICE_PLUGIN = {"kind": "DaemonSet", "namespace": "kube-system", "name": "neuron-device-plugin",
                        "image": "public.ecr.aws/neuron/neuron-device-plugin"}
DEVICE_PLUGIN_PROBE_EXEMPTION = PlatformExemption(
    **NEURON_DEVICE_PLUGIN,
    reason="Upstream Neuron device plugin: a gRPC socket on the node, no HTTP endpoint to probe; "
    "the kubelet re-registers it when it restarts.",
)


def _no_privilege_escalation(label: str, container: Mapping[str, Any]) -> Iterator[str]:
    if (container.get("securityContext") or {}).get("allowPrivilegeEscalation") is not False:
        yield f"{label}: securityContext.allowPrivilegeEscalation is not false (the pack's root exemption keeps this)."


# A device plugin serves its gRPC socket from the root-owned hostPath /var/lib/kubelet/device-plugins;
# the kubelet's plugin guide says creating a socket in such a root-owned plugin directory requires
# running as root (kubernetes/kubernetes pkg/kubelet/pluginmanager/pluginwatcher/README.md)
DEVICE_PLUGIN_ROOT_EXEMPTION = PlatformExemption(
    **NEURON_DEVICE_PLUGIN,
    reason="Upstream Neuron device plugin runs as root: it creates its registration socket in the root-owned "
    "hostPath /var/lib/kubelet/device-plugins on the node. Privilege escalation stays forbidden.",
    still_checked=_no_privilege_escalation,
)


# neuron-monitor reads the Neuron devices' counters: privileged, as the Neuron docs' DaemonSet runs it
# (aws-neuron-sdk src/k8/k8s-neuron-monitor-daemonset.yml); components/monitoring/neuron_monitor.py
NEURON_MONITOR_ROOT_EXEMPTION = PlatformExemption(
    kind="DaemonSet", namespace="kube-system", name="neuron-monitor", image="public.ecr.aws/neuron/neuron-monitor",
    reason="Upstream neuron-monitor runs privileged to read the Neuron devices on the node (Neuron docs' DaemonSet); "
    "requesting the devices through the device plugin instead would take them away from vLLM.",
)


def _resources(label: str, container: Mapping[str, Any]) -> Iterator[str]:
    missing = [
        f"{kind}.{res}"
        for kind in ("requests", "limits")
        for res in ("cpu", "memory")
        if dig(container, "resources", kind, res) in (None, "")
    ]
    if missing:
        yield f"{label} does not set resources {', '.join(missing)}."


def _probes(label: str, container: Mapping[str, Any]) -> Iterator[str]:
    missing = [p for p in ("livenessProbe", "readinessProbe") if not is_map(container.get(p))]
    if missing:
        yield f"{label} has no {' or '.join(missing)}."


def _pod_non_root(config: Mapping[str, Any], wl: Workload) -> Any:
    return dig(wl.pod_spec, "securityContext", "runAsNonRoot")


def _security_context(label: str, container: Mapping[str, Any], pod_non_root: Any) -> Iterator[str]:
    context = container.get("securityContext") or {}
    non_root = context.get("runAsNonRoot") if has_key(context, "runAsNonRoot") else pod_non_root
    problems = []
    if non_root is not True:
        problems.append("runAsNonRoot is not true (container or pod securityContext)")
    if context.get("allowPrivilegeEscalation") is not False:
        problems.append("securityContext.allowPrivilegeEscalation is not false")
    if problems:
        yield f"{label}: {'; '.join(problems)}."


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


def _forbidden_tags(config: Mapping[str, Any], wl: Workload) -> list[str]:
    return [str(t) for t in config.get("forbiddenTags", DEFAULT_FORBIDDEN_TAGS)]


def _image_tag(label: str, container: Mapping[str, Any], forbidden: list[str]) -> Iterator[str]:
    image = container.get("image")
    if not isinstance(image, str) or not image:
        yield f"{label} has no image."
        return
    _, _, tag, digest = parse_image(image)
    if digest:
        return
    if tag is None:
        yield f"{label} image {image!r} has no tag (means :latest): pin a version or digest."
    elif tag in forbidden:
        yield f"{label} image {image!r} uses the moving tag :{tag}: pin a version or digest."


def registry_allowed(registry: str, allowed: list[str]) -> bool:
    """`registry` matches one of the allowed names / patterns (`*` wildcards)."""
    registry = registry.lower()
    return any(fnmatch.fnmatchcase(registry, pattern.lower()) for pattern in allowed)


ECR_REPOSITORY = "aws:ecr/repository:Repository"
# A private ECR registry host: <account>.dkr.ecr.<region>.amazonaws.com (.com.cn in China)
_PRIVATE_ECR = re.compile(r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")


def own_ecr_repositories(resources) -> list[tuple[Optional[str], Optional[str]]]:
    """(repository URL, name) of each ECR repository the stack declares; either may be unknown
    (None) in a preview. Stack policies see outputs, so after an update the URL is known."""
    found = []
    for r in resources:
        if r.resource_type == ECR_REPOSITORY:
            url, name = known_or(lambda r=r: r.props.get("repositoryUrl"), None), known_or(lambda r=r: r.props.get("name"), None)
            found.append((url if isinstance(url, str) else None, name if isinstance(name, str) else None))
    return found


def from_own_repository(image: str, repositories: list[tuple[Optional[str], Optional[str]]]) -> bool:
    """The image is in one of the stack's own ECR repositories: its registry/repository equals the
    repository URL, or, while the URL is unknown (preview), it is a private ECR registry and the
    repository has the declared name."""
    registry, repository, _, _ = parse_image(image)
    for url, name in repositories:
        if url is not None:
            if f"{registry}/{repository}".lower() == url.lower():
                return True
        elif name is not None and repository == name and _PRIVATE_ECR.match(registry):
            return True
    return False


def _image_registry(label: str, container: Mapping[str, Any], allowed: list[str],
                    repositories: list[tuple[Optional[str], Optional[str]]]) -> Iterator[str]:
    image = known_or(lambda: container.get("image"), None)
    if not isinstance(image, str) or not image:
        return  # k8s-image-tag reports a missing image; an unknown one (preview) is checked at update
    registry = parse_image(image)[0]
    if not registry_allowed(registry, allowed) and not from_own_repository(image, repositories):
        yield (
            f"{label} image {image!r} comes from {registry}, not an allowed registry {allowed} nor an ECR repository "
            "this stack declares. Fix: use an image from an allowed registry, or allow this one in the policy pack "
            "config (allowedRegistries) if it is yours."
        )


def _registries_of_workloads(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    config = args.get_config()
    allowed = [str(r) for r in config.get("allowedRegistries", DEFAULT_ALLOWED_REGISTRIES)]
    resources = list(args.resources)
    repositories = own_ecr_repositories(resources)
    for resource in resources:
        wl = known_or(lambda r=resource: workload(r), None)
        if wl is None:
            continue
        for label, container in known_or(lambda w=wl: list(w.containers()), []):
            for message in _image_registry(label, container, allowed, repositories):
                report_violation(message, resource.urn)


def _secret_env_names(config: Mapping[str, Any], wl: Workload) -> tuple[re.Pattern, set[str]]:
    """(the pattern of secret-looking names, the names that match it but hold no secret)."""
    pattern = re.compile(str(config.get("secretEnvNamePattern", DEFAULT_SECRET_ENV_PATTERN)), re.IGNORECASE)
    return pattern, {str(n) for n in config.get("nonSecretEnvNames", [])}


def _env_secrets(label: str, container: Mapping[str, Any], names: tuple[re.Pattern, set[str]]) -> Iterator[str]:
    pattern, not_secret = names
    for env in as_list(container.get("env")):
        if not is_map(env):
            continue
        name = str(env.get("name") or "")
        if not pattern.search(name) or name in not_secret:
            continue
        if has_key(env, "value"):
            # A computed value (unknown in preview) inlined in the spec is a literal all the same
            if known_or(lambda e=env: e["value"] not in (None, ""), True):
                yield f"{label} sets {name} to a literal value: reference a Secret (valueFrom.secretKeyRef)."
                continue
        source = env.get("valueFrom")
        if is_map(source) and not is_map(source.get("secretKeyRef")) and source.get("configMapKeyRef"):
            yield f"{label} reads {name} from a ConfigMap: keep it in a Secret (valueFrom.secretKeyRef)."


def _exemptions_config(description: str) -> PolicyConfigSchema:
    return PolicyConfigSchema(properties={"exemptions": {**exemptions_schema(description), "default": []}})


def policies() -> list:
    """The container rules."""
    return [
        ResourceValidationPolicy(
            name="k8s-container-resources",
            description="Every container sets CPU and memory requests and limits.",
            enforcement_level=EnforcementLevel.MANDATORY,
            validate=container_rule(_resources),
        ),
        ResourceValidationPolicy(
            name="k8s-container-probes",
            description=(
                "Every (non-init) container has a livenessProbe and a readinessProbe; the pack exempts the Neuron "
                "device plugin (no HTTP endpoint), other kube-system DaemonSets only through the config allowlist."
            ),
            enforcement_level=EnforcementLevel.MANDATORY,
            config_schema=_exemptions_config(
                "Your kube-system DaemonSets exempt from the probe rule, each with the reason (e.g. an upstream "
                "agent that serves no HTTP endpoint). The platform's own exemptions are built into the pack."
            ),
            validate=container_rule(_probes, init=False, exemptions=True, platform=[DEVICE_PLUGIN_PROBE_EXEMPTION]),
        ),
        ResourceValidationPolicy(
            name="k8s-container-security-context",
            description=(
                "Every container runs as non-root (container or pod level) with allowPrivilegeEscalation false; the "
                "pack lets the Neuron device plugin run as root, other kube-system DaemonSets only through the config."
            ),
            enforcement_level=EnforcementLevel.MANDATORY,
            config_schema=_exemptions_config(
                "Your kube-system DaemonSets that must run as root, each with the reason. The platform's own "
                "exemptions are built into the pack."
            ),
            validate=container_rule(_security_context, _pod_non_root, exemptions=True,
                                    platform=[DEVICE_PLUGIN_ROOT_EXEMPTION, NEURON_MONITOR_ROOT_EXEMPTION]),
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
            validate=container_rule(_image_tag, _forbidden_tags),
        ),
        StackValidationPolicy(
            name="k8s-image-registry",
            description="Container images come only from the allowed registries (pack config allowedRegistries) "
                        "or from an ECR repository the stack itself declares (the agent server's own build).",
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
            validate=_registries_of_workloads,
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
            validate=container_rule(_env_secrets, _secret_env_names),
        ),
    ]
