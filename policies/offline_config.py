"""The policy pack's configuration, resolved as the Pulumi CLI resolves `--policy-pack-config`.

Enforcement levels follow the CLI: `all`, then per-policy `enforcementLevel`, else the
policy's own level (else the pack's). Properties = schema defaults overlaid with the file's
values, checked against the policy's schema; unknown policy names and properties are rejected.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence, Union

from pulumi_policy import EnforcementLevel, Policy

from .genai_policies.pack import PACK_ENFORCEMENT_LEVEL

POLICIES_DIR = Path(__file__).resolve().parent


class PackConfigError(ValueError):
    """The pack config names an unknown policy or does not match a policy's schema."""


@dataclass(frozen=True)
class PolicySettings:
    """A policy's effective enforcement level and config, as the CLI would configure it."""

    enforcement_level: EnforcementLevel
    properties: Mapping[str, Any]


def config_path_for(stack: str) -> Path:
    """`policies/config.<stack>.json`."""
    return POLICIES_DIR / f"config.{stack}.json"


def load_config(path: Union[str, Path]) -> dict[str, Any]:
    """A `--policy-pack-config` JSON file."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as err:
        raise PackConfigError(f"{path}: {err}") from None
    if not isinstance(data, dict):
        raise PackConfigError(f"{path}: expected a JSON object of policy name -> level or settings")
    return data


def _level(value: Any, where: str) -> EnforcementLevel:
    try:
        return EnforcementLevel(value)
    except ValueError:
        allowed = ", ".join(e.value for e in EnforcementLevel)
        raise PackConfigError(f"{where}: enforcement level {value!r} is not one of {allowed}") from None


_JSON_TYPES = {
    "string": str, "boolean": bool, "object": dict, "array": list, "integer": int, "number": (int, float),
}


def _check_schema(value: Any, schema: Mapping[str, Any], where: str) -> None:
    """The subset of JSON Schema the pack uses: type, enum, minLength, items, properties, required."""
    expected = schema.get("type")
    if expected:
        python_type = _JSON_TYPES[expected]
        if not isinstance(value, python_type) or (expected in ("integer", "number") and isinstance(value, bool)):
            raise PackConfigError(f"{where}: expected {expected}, got {json.dumps(value)}")
    if "enum" in schema and value not in schema["enum"]:
        raise PackConfigError(f"{where}: {json.dumps(value)} is not one of {schema['enum']}")
    if isinstance(value, str) and len(value) < schema.get("minLength", 0):
        raise PackConfigError(f"{where}: shorter than {schema['minLength']} characters")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            _check_schema(item, schema["items"], f"{where}[{i}]")
    if isinstance(value, dict):
        for key in schema.get("required", ()):
            if key not in value:
                raise PackConfigError(f"{where}: missing required property {key!r}")
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                _check_schema(value[key], sub, f"{where}.{key}")


def resolve_config(
    policies: Sequence[Policy], config: Optional[Mapping[str, Any]] = None
) -> dict[str, PolicySettings]:
    """Each policy's effective level and properties for a `--policy-pack-config` document."""
    config = dict(config or {})
    names = {p.name for p in policies}
    unknown = sorted(set(config) - names - {"all"})
    if unknown:
        raise PackConfigError(f"pack config names unknown policies {unknown}; known: {sorted(names)}")
    all_level = _level(config["all"], "all") if "all" in config else None
    resolved = {}
    for policy in policies:
        level = all_level or policy.enforcement_level or PACK_ENFORCEMENT_LEVEL
        schema = policy.config_schema
        properties: dict[str, Any] = {
            key: json.loads(json.dumps(sub["default"]))
            for key, sub in (schema.properties.items() if schema else ())
            if "default" in sub
        }
        entry = config.get(policy.name)
        if isinstance(entry, str):
            level = _level(entry, policy.name)
        elif isinstance(entry, dict):
            if "enforcementLevel" in entry:
                level = _level(entry["enforcementLevel"], f"{policy.name}.enforcementLevel")
            given = {k: v for k, v in entry.items() if k != "enforcementLevel"}
            if given and schema is None:
                raise PackConfigError(f"{policy.name}: takes no configuration, got {sorted(given)}")
            properties.update(given)
        elif entry is not None:
            raise PackConfigError(f"{policy.name}: expected an enforcement level or an object")
        if schema is not None:
            unexpected = sorted(set(properties) - set(schema.properties))
            if unexpected:
                raise PackConfigError(f"{policy.name}: unknown properties {unexpected}")
            _check_schema(properties, {"type": "object", "properties": schema.properties,
                                       "required": schema.required or []}, policy.name)
        resolved[policy.name] = PolicySettings(level, properties)
    return resolved
