"""Reading Kubernetes workloads: the pod-owning kinds, their pod spec and their containers.

Workloads are the pod-owning kinds below; their pod spec is read from the type's template path.
"Every container" means `containers` and `initContainers` (`Workload.containers()`); probes
only need the long-running `containers` (`init=False`). `container_rule` turns a per-container
check into a rule's validate function; `PlatformExemption` is a platform workload it lets through,
with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Mapping, Optional, Sequence

from pulumi_policy import ReportViolation, ResourceValidationArgs

from ..common import as_list, dig, find_exemption, is_map, known_or, type_name

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


@dataclass(frozen=True)
class PlatformExemption:
    """A workload of the platform itself that a rule cannot hold to, with the reason: built into the
    pack (not a per-stack file), so that the pack's defaults pass what the program deploys.

    It matches by kind, namespace, name AND image repository (every container runs `image`, any tag
    or digest), so a look-alike running another image is not exempt. `still_checked`, when set, is
    the part of the rule the workload must still pass (a check like the rule's own, without setup).
    """

    kind: str
    namespace: str
    name: str
    image: str
    reason: str
    still_checked: Optional[Callable[[str, Mapping[str, Any]], Iterable[str]]] = None

    def matches(self, wl: Workload) -> bool:
        if (wl.kind, wl.namespace, wl.name) != (self.kind, self.namespace, self.name):
            return False  # other workloads' images are not read (they may be unknown in preview)
        images = [container.get("image") for _, container in wl.containers()]
        pinned = (self.image + ":", self.image + "@")
        return bool(images) and all(isinstance(image, str) and image.startswith(pinned) for image in images)


def container_rule(
    check: Callable[..., Iterable[str]],
    setup: Optional[Callable[[Mapping[str, Any], Workload], Any]] = None,
    init: bool = True,
    exemptions: bool = False,
    platform: Sequence[PlatformExemption] = (),
) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    """A validate function that reports every message `check(label, container)` yields for each
    container of a workload (init containers too unless `init=False`); other types pass.

    A workload matching one of `platform` is not applicable (with the reason) once it passes the
    exemption's `still_checked`; with `exemptions`, one in the config's `exemptions` allowlist is
    not applicable either. With `setup`, `setup(config, workload)` runs once before the containers
    and its result is passed on: `check(label, container, setup_result)`.
    """

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        wl = workload(args)
        if wl is None:
            return
        config = args.get_config()
        builtin = next((e for e in platform if e.matches(wl)), None)
        if builtin is not None:
            remaining = [message for label, container in wl.containers(init=init)
                         for message in (builtin.still_checked or _nothing)(label, container)]
            for message in remaining:
                report_violation(message)
            if not remaining:
                args.not_applicable(f"{wl.label} exempt by the pack (a platform workload): {builtin.reason}")
            return
        if exemptions:
            exemption = find_exemption(config.get("exemptions", []), wl.kind, wl.namespace, wl.name)
            if exemption is not None:
                args.not_applicable(f"{wl.label} exempt by pack config: {exemption.get('reason')}")
        extra = () if setup is None else (setup(config, wl),)
        for label, container in wl.containers(init=init):
            for message in check(label, container, *extra):
                report_violation(message)

    return validate


def _nothing(label: str, container: Mapping[str, Any]) -> Iterable[str]:
    return ()
