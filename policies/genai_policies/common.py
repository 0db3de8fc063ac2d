"""Helpers shared by the rules: reading CrossGuard props, IAM documents, exemptions.

Props arrive wrapped by pulumi_policy (`unknown_checking_proxy`): objects are `Mapping`s and
arrays are `Sequence`s, not `dict`/`list`, and reading a value that is unknown during preview
raises `UnknownValueError` (the analyzer then reports "can't run policy during preview"). The
helpers below therefore test for `Mapping`/`Sequence`, and check a key's *presence* by iterating
the keys (iteration never touches values) when an unknown value would still count as "set".
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Iterable, Iterator, Optional

from pulumi_policy.proxy import UnknownValueError  # noqa: F401 - re-exported for the rules


def is_map(value: Any) -> bool:
    """An object value (dict or the analyzer's dict proxy)."""
    return isinstance(value, Mapping)


def is_list(value: Any) -> bool:
    """An array value (list or the analyzer's list proxy); strings are not arrays."""
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def as_list(value: Any) -> list[Any]:
    """`None` -> [], a scalar -> [scalar], an array -> its items."""
    if value is None:
        return []
    if is_list(value):
        return list(value)
    return [value]


def has_key(mapping: Any, key: str) -> bool:
    """`key` is present in `mapping`, without reading its (possibly unknown) value."""
    return is_map(mapping) and key in list(iter(mapping))


def dig(value: Any, *path: Any, default: Any = None) -> Any:
    """`value[path[0]][path[1]]...`, or `default` where an object/array level is missing."""
    for key in path:
        if isinstance(key, int):
            if not is_list(value) or not -len(value) <= key < len(value):
                return default
        elif not has_key(value, key):
            return default
        value = value[key]
        if value is None:
            return default
    return value


def known_or(read, fallback: Any) -> Any:
    """`read()`, or `fallback` when the value is unknown during preview."""
    try:
        return read()
    except UnknownValueError:
        return fallback


def type_name(resource_type: str) -> str:
    """`kubernetes:apps/v1:Deployment` -> `Deployment`."""
    return resource_type.rsplit(":", 1)[-1]


def parse_policy_document(document: Any) -> Optional[Mapping[str, Any]]:
    """An IAM policy document from a JSON string (or an object); None if it is not one."""
    if is_map(document):
        return document
    if isinstance(document, str):
        try:
            parsed = json.loads(document)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None
    return None


def statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The document's statements (`Statement` may be one object or an array)."""
    return [s for s in as_list(document.get("Statement")) if is_map(s)]


def statement_values(statement: Mapping[str, Any], key: str) -> list[str]:
    """`Action`/`Resource`/... of a statement as a list of strings."""
    return [v for v in as_list(statement.get(key)) if isinstance(v, str)]


def principals(statement: Mapping[str, Any], key: str = "Principal") -> Iterator[tuple[str, str]]:
    """(kind, value) pairs of a statement's principal: `"*"` -> ("*", "*")."""
    principal = statement.get(key)
    if principal is None:
        return
    if isinstance(principal, str):
        yield ("*" if principal == "*" else "?", principal)
        return
    if is_map(principal):
        for kind in principal:
            for value in as_list(principal[kind]):
                yield (kind, str(value))


def find_exemption(
    exemptions: Iterable[Mapping[str, Any]], kind: str, namespace: str, name: str
) -> Optional[Mapping[str, Any]]:
    """The allowlist entry for this workload, if any (kind, namespace and name all match)."""
    for entry in exemptions or ():
        if (entry.get("kind"), entry.get("namespace"), entry.get("name")) == (kind, namespace, name):
            return entry
    return None


def exemptions_schema(description: str) -> dict[str, Any]:
    """JSON schema of a workload allowlist: only kube-system DaemonSets, each with a reason."""
    return {
        "type": "array",
        "description": description,
        "items": {
            "type": "object",
            "properties": {
                "kind": {"type": "string", "enum": ["DaemonSet"]},
                "namespace": {"type": "string", "enum": ["kube-system"]},
                "name": {"type": "string", "minLength": 1},
                "reason": {"type": "string", "minLength": 10},
            },
            "required": ["kind", "namespace", "name", "reason"],
        },
    }
