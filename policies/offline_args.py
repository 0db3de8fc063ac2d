"""pulumi_policy validation args built from the offline engine's resource records.

Built with pulumi_policy's real, public classes - `ResourceValidationArgs`,
`StackValidationArgs`, `PolicyResource`, `PolicyResourceOptions`, `PolicyCustomTimeouts`,
`PolicyProviderResource` (their constructors are plain; only `PolicyPack` starts a server).
Properties take the analyzer servicer's own path: the record's values are packed into a
protobuf `Struct` and read back with `json_format.MessageToDict` (so numbers arrive as floats,
as over gRPC), then `deserialize_properties` and `unknown_checking_proxy` wrap them exactly as
`Analyze`/`AnalyzeStack` do. Resource policies get each custom resource's inputs; stack
policies get every custom resource once, with its outputs (falling back to inputs for a record
without outputs), parents and dependencies linked like the servicer links them. The servicer
rebuilds props for every policy; here they are built once per run and shared (the rules never
write to props).

Not reproduced (the offline engine does not record them): resource options (protect,
ignoreChanges, ... are defaults here), property dependencies (empty), default providers
(`provider` is None unless the resource names an explicit provider), stack tags (empty).
"""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

from google.protobuf import json_format, struct_pb2
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import unknown_checking_proxy


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


class ValidationArgsFactory:
    """The custom resources of a run and their validation args, with props and provider objects
    built once per run."""

    def __init__(self, records: Sequence[Any]) -> None:
        self.all = list(records)
        self.custom = [r for r in self.all if r.custom]
        self._by_urn = {r.urn: r for r in self.all}
        self._providers: dict[str, Optional[PolicyProviderResource]] = {}
        self._inputs: dict[str, Any] = {}
        self._stack_resources: Optional[list[PolicyResource]] = None

    def resource_args(self, record, config: Mapping[str, Any]) -> ResourceValidationArgs:
        """A resource policy's args for one custom resource, `config` being the policy's config."""
        return ResourceValidationArgs(
            record.type, self.inputs(record), record.urn, record.name, _options(record),
            self.provider(record), dict(config), {},
        )

    def stack_args(self, config: Mapping[str, Any]) -> StackValidationArgs:
        """A stack policy's args: every custom resource, `config` being the policy's config."""
        return StackValidationArgs(self.policy_resources(), dict(config), {})

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
