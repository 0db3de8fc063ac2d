"""Run the policy pack against an offline `StackRun`, without the Pulumi CLI or a policy server.

    python -m policies.offline dev                # uses policies/config.dev.json when present
    python -m policies.offline prod --config policies/config.prod.json
    python -m policies.offline dev --no-config    # the pack's built-in defaults only

Exit codes: 0 no mandatory violation, 1 mandatory violations, 2 invalid stack or pack config.

How the arguments are built: with pulumi_policy's real, public classes -
`ResourceValidationArgs`, `StackValidationArgs`, `PolicyResource`, `PolicyResourceOptions`,
`PolicyCustomTimeouts`, `PolicyProviderResource` (their constructors are plain; only
`PolicyPack` starts a server). Properties take the analyzer servicer's own path: the record's
values are packed into a protobuf `Struct` and read back with `json_format.MessageToDict` (so
numbers arrive as floats, as over gRPC), then `deserialize_properties` and
`unknown_checking_proxy` wrap them exactly as `Analyze`/`AnalyzeStack` do. Resource policies get
each custom resource's inputs; stack policies get every custom resource once, with its outputs
(falling back to inputs for a record without outputs), parents and dependencies linked like the
servicer links them. The servicer rebuilds props for every policy; here they are built once per
run and shared (the rules never write to props). Enforcement levels and config follow the CLI: `all`, then per-policy
`enforcementLevel`, else the policy's own level; properties = schema defaults overlaid with the
file's values, checked against the schema; `remediate` counts as mandatory, `disabled` skips.
Like the real analyzer, an `UnknownValueError` becomes an advisory "can't run during preview"
violation and `args.not_applicable(reason)` a not-applicable entry.

Not reproduced (the offline engine does not record them): resource options (protect,
ignoreChanges, ... are defaults here), property dependencies (empty), default providers
(`provider` is None unless the resource names an explicit provider), stack tags (empty).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import dataclass, field
from inspect import isawaitable
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Sequence, Union

from google.protobuf import json_format, struct_pb2
from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.policy import _NotApplicableError  # raised by args.not_applicable()
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from .genai_policies.pack import PACK_ENFORCEMENT_LEVEL
from .genai_policies.pack import policies as pack_policies

POLICIES_DIR = Path(__file__).resolve().parent
EXIT_MANDATORY = 1
EXIT_BAD_CONFIG = 2


class PackConfigError(ValueError):
    """The pack config names an unknown policy or does not match a policy's schema."""


@dataclass(frozen=True)
class Violation:
    """One reported violation."""

    policy_name: str
    enforcement_level: str
    """`advisory` or `mandatory` (remediate is reported as mandatory)."""
    urn: str
    """The resource; empty for a stack-level violation."""
    message: str
    description: str = field(default="", compare=False)
    """The policy's description (the CLI prints it above the message)."""


@dataclass(frozen=True)
class NotApplicable:
    """A policy that declared itself not applicable to a resource (e.g. an allowlisted workload)."""

    policy_name: str
    urn: str
    reason: str


@dataclass
class PolicyReport:
    """Everything one run of the pack reported."""

    violations: list[Violation]
    not_applicable: list[NotApplicable]

    @property
    def mandatory(self) -> list[Violation]:
        """Violations that would block `pulumi up`."""
        return [v for v in self.violations if v.enforcement_level == EnforcementLevel.MANDATORY.value]

    @property
    def advisory(self) -> list[Violation]:
        """Violations that are only printed."""
        return [v for v in self.violations if v.enforcement_level == EnforcementLevel.ADVISORY.value]


@dataclass(frozen=True)
class PolicySettings:
    """A policy's effective enforcement level and config, as the CLI would configure it."""

    enforcement_level: EnforcementLevel
    properties: Mapping[str, Any]


# --- configuration -------------------------------------------------------------------------


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


# --- arguments -----------------------------------------------------------------------------


def over_the_wire(values: Mapping[str, Any]) -> dict[str, Any]:
    """Plain values as the analyzer reads them off gRPC: a `Struct` round trip (numbers -> floats)."""
    struct = struct_pb2.Struct()
    struct.update(dict(values or {}))
    return json_format.MessageToDict(struct)


def policy_props(wire: Mapping[str, Any]) -> Any:
    """What a policy receives as `props`: deserialized (fresh objects) and unknown-checking."""
    return unknown_checking_proxy(deserialize_properties(dict(wire)))


def wire_props(values: Mapping[str, Any]) -> Any:
    """Plain values -> a policy's `props` (`over_the_wire` then `policy_props`)."""
    return policy_props(over_the_wire(values))


def _options(record) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=False, ignore_changes=[], delete_before_replace=None, aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0), additional_secret_outputs=[],
        parent=record.parent or None,
    )


class _Stack:
    """The custom resources of a run, with their provider objects resolved once."""

    def __init__(self, records: Sequence[Any]) -> None:
        self.all = list(records)
        self.custom = [r for r in self.all if r.custom]
        self._by_urn = {r.urn: r for r in self.all}
        self._providers: dict[str, Optional[PolicyProviderResource]] = {}
        self._inputs: dict[str, Any] = {}
        self._stack_resources: Optional[list[PolicyResource]] = None

    def inputs(self, record) -> Any:
        """A resource policy's `props`: the inputs (built once, shared by the policies of a run)."""
        if record.urn not in self._inputs:
            self._inputs[record.urn] = wire_props(record.inputs)
        return self._inputs[record.urn]

    def provider(self, record) -> Optional[PolicyProviderResource]:
        reference = record.provider or ""
        if reference not in self._providers:
            urn = reference.rsplit("::", 1)[0] if reference else ""
            provider = self._by_urn.get(urn)
            self._providers[reference] = (
                PolicyProviderResource(provider.type, wire_props(provider.inputs), provider.urn, provider.name)
                if provider is not None else None
            )
        return self._providers[reference]

    def policy_resources(self) -> list[PolicyResource]:
        """`PolicyResource`s (outputs as props), parents and dependencies linked (built once)."""
        if self._stack_resources is None:
            self._stack_resources = self._build_policy_resources()
        return self._stack_resources

    def _build_policy_resources(self) -> list[PolicyResource]:
        resources = {
            r.urn: PolicyResource(
                r.type, wire_props(r.outputs or r.inputs), r.urn, r.name, _options(r), self.provider(r), None, [], {}
            )
            for r in self.custom
        }
        for record in self.custom:
            resource = resources[record.urn]
            resource.parent = resources.get(record.parent)
            resource.dependencies = [resources[d] for d in record.dependencies if d in resources]
        return list(resources.values())


def _reporter(out: PolicyReport, policy: Policy, level: EnforcementLevel, resource_urn: Optional[str]):
    """The `report_violation` callback: a resource policy's violations are always about its resource
    (the servicer ignores the `urn` argument there); a stack policy's are about `urn` or the stack."""

    def report_violation(message: str, urn: Optional[str] = None) -> None:
        if message and not isinstance(message, str):
            raise TypeError("Expected message to be a string")
        target = resource_urn if resource_urn is not None else (urn or "")
        out.violations.append(Violation(policy.name, level.value, target, message, policy.description))

    return report_violation


def _run_validation(policy: Policy, args: Any, level: EnforcementLevel, urn: Optional[str], out: PolicyReport) -> None:
    try:
        result = policy.validate(args, _reporter(out, policy, level, urn))
        if isawaitable(result):
            # As the servicer does: a private loop, so the thread's current loop (which the Pulumi
            # runtime and the offline engine use) is left alone - asyncio.run would unset it
            loop = asyncio.new_event_loop()
            try:
                loop.run_until_complete(_await(result))
            finally:
                loop.close()
    except UnknownValueError as err:
        out.violations.append(
            Violation(policy.name, EnforcementLevel.ADVISORY.value, urn or "",
                      f"can't run policy '{policy.name}' during preview: {err.message}", policy.description)
        )
    except _NotApplicableError as err:
        out.not_applicable.append(NotApplicable(policy.name, urn or "", err.reason or ""))


async def _await(awaitable) -> Any:
    return await awaitable


def evaluate(
    run: Any,
    config: Optional[Mapping[str, Any]] = None,
    policies: Optional[Sequence[Policy]] = None,
) -> PolicyReport:
    """Every rule of the pack against a `StackRun` (or a list of `ResourceRecord`s)."""
    policies = list(policies if policies is not None else pack_policies())
    settings = resolve_config(policies, config)
    stack = _Stack(run.resources if hasattr(run, "resources") else run)
    out = PolicyReport([], [])

    for policy in policies:
        policy_settings = settings[policy.name]
        properties = over_the_wire(policy_settings.properties)  # Configure() receives a Struct too
        level = policy_settings.enforcement_level
        if level == EnforcementLevel.DISABLED:
            continue
        reported = EnforcementLevel.MANDATORY if level == EnforcementLevel.REMEDIATE else level

        if isinstance(policy, ResourceValidationPolicy):
            if not policy.has_validation():
                continue
            for record in stack.custom:
                args = ResourceValidationArgs(
                    record.type, stack.inputs(record), record.urn, record.name, _options(record),
                    stack.provider(record), dict(properties), {},
                )
                _run_validation(policy, args, reported, record.urn, out)
        elif isinstance(policy, StackValidationPolicy):
            args = StackValidationArgs(stack.policy_resources(), dict(properties), {})
            _run_validation(policy, args, reported, None, out)
    return out


def check(run: Any, config: Optional[Mapping[str, Any]] = None) -> list[Violation]:
    """The violations of every rule against `run` (see `evaluate`)."""
    return evaluate(run, config).violations


# --- command line --------------------------------------------------------------------------


def format_report(report: PolicyReport) -> str:
    """Human-readable report: mandatory first, then advisory, then allowlisted resources."""
    lines = []
    for title, items in (("mandatory", report.mandatory), ("advisory", report.advisory)):
        for v in items:
            lines.append(f"[{title}] {v.policy_name}  {v.urn or '(stack)'}\n    {v.message}")
    for n in report.not_applicable:
        lines.append(f"[not applicable] {n.policy_name}  {n.urn}\n    {n.reason}")
    lines.append(
        f"{len(report.mandatory)} mandatory, {len(report.advisory)} advisory violation(s); "
        f"{len(report.not_applicable)} not applicable"
    )
    return "\n".join(lines)


def main(argv: Optional[Iterable[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m policies.offline", description=__doc__.split("\n\n")[0])
    parser.add_argument("stack", help="stack name: runs Pulumi.<stack>.yaml offline")
    parser.add_argument("--config", type=Path, help="pack config JSON (default: policies/config.<stack>.json if present)")
    parser.add_argument("--no-config", action="store_true", help="ignore any pack config file: built-in defaults")
    parser.add_argument("--stack-file", type=Path, help="read this stack file instead of Pulumi.<stack>.yaml")
    args = parser.parse_args(list(argv) if argv is not None else None)

    from tools.offline.errors import run_or_exit  # noqa: PLC0415 - keeps --help and imports light

    try:
        config = None
        if not args.no_config:
            path = args.config or config_path_for(args.stack)
            if args.config or path.exists():
                config = load_config(path)
        resolve_config(pack_policies(), config)
    except PackConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    run = run_or_exit(args.stack, stack_file=args.stack_file)
    report = evaluate(run, config)
    print(format_report(report))
    return EXIT_MANDATORY if report.mandatory else 0


if __name__ == "__main__":
    sys.exit(main())
