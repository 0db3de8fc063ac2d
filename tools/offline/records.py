"""What the offline engine records: one `ResourceRecord` per registered resource."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

from google.protobuf import json_format, struct_pb2

SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
MASK = "[secret]"


def struct_to_plain(struct: struct_pb2.Struct) -> tuple[Any, set[str]]:
    """Protobuf struct -> plain Python, with resource references as URNs and the paths of secrets."""
    secrets: set[str] = set()
    return _plain(json_format.MessageToDict(struct), "", secrets), secrets


def _plain(value: Any, path: str, secrets: set[str]) -> Any:
    if isinstance(value, dict):
        sig = value.get(SIG_KEY)
        if sig == SECRET_SIG:
            secrets.add(path or "$")
            return _plain(value.get("value"), path, secrets)
        if sig == RESOURCE_SIG:
            return value.get("urn")
        return {k: _plain(v, f"{path}.{k}" if path else k, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, f"{path}[{i}]", secrets) for i, v in enumerate(value)]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def mask(value: Any, secret_paths: set[str], path: str = "") -> Any:
    """`value` with every secret path replaced by `[secret]`."""
    if (path or "$") in secret_paths:
        return MASK
    if isinstance(value, dict):
        return {k: mask(v, secret_paths, f"{path}.{k}" if path else k) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v, secret_paths, f"{path}[{i}]") for i, v in enumerate(value)]
    return value


@dataclass
class ResourceRecord:
    """A registered resource as the engine saw it."""

    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    inputs: dict[str, Any]
    secret_paths: set[str] = field(default_factory=set)
    dependencies: list[str] = field(default_factory=list)
    provider: str = ""
    outputs: dict[str, Any] = field(default_factory=dict)
    emulated: bool = False
    protect: bool = False
    replace_on_changes: list[str] = field(default_factory=list)
    delete_before_replace: bool = False
    ignore_changes: list[str] = field(default_factory=list)

    @property
    def masked_inputs(self) -> dict[str, Any]:
        """Inputs with secret values replaced by `[secret]`."""
        return mask(self.inputs, self.secret_paths)


@dataclass
class StackRun:
    """Everything one offline run of the program registered and exported."""

    stack: str
    resources: list[ResourceRecord]
    outputs: dict[str, Any]
    secret_outputs: set[str]
    asg_tags: dict[str, dict[str, str]] = field(default_factory=dict)
    """Every Auto Scaling group of the run's node groups and its tags (EKS's own and the stack's)."""

    def of_type(self, type_: str) -> list[ResourceRecord]:
        """Resources of one type token, e.g. `aws:eks/nodeGroup:NodeGroup`."""
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name_contains: str = "") -> ResourceRecord:
        """The single resource of `type_` whose name contains `name_contains`."""
        found = [r for r in self.of_type(type_) if name_contains in r.name]
        if len(found) != 1:
            raise LookupError(f"expected one {type_} named *{name_contains}*, found {[r.name for r in found]}")
        return found[0]

    def by_urn(self, urn: str) -> ResourceRecord:
        """The resource with this URN."""
        for record in self.resources:
            if record.urn == urn:
                return record
        raise LookupError(urn)

    def children(self, urn: str) -> Iterator[ResourceRecord]:
        """Direct children of a resource."""
        return (r for r in self.resources if r.parent == urn)

    def kubernetes_objects(self) -> list[ResourceRecord]:
        """Every Kubernetes object (custom resources of the kubernetes provider). A Helm release is
        not one: Helm renders and applies the chart's objects at `pulumi up` (not visible offline)."""
        return [r for r in self.resources if r.type.startswith("kubernetes:") and r.custom and "providers" not in r.type
                and r.type.split(":")[1].split("/")[0] not in ("helm.sh", "yaml", "kustomize")]
