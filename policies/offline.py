"""Run the policy pack against an offline `StackRun`, without the Pulumi CLI or a policy server.

    python -m policies.offline dev                # uses policies/config.dev.json when present
    python -m policies.offline prod               # no config.prod.json: the pack's own defaults
    python -m policies.offline dev --config my.json
    python -m policies.offline dev --no-config    # the pack's own defaults only

Exit codes: 0 no mandatory violation, 1 mandatory violations, 2 invalid stack or pack config.

Each enabled policy runs as the analyzer servicer runs it: resource policies once per custom
resource, stack policies once per run, with args from `offline_args` and the level and config
`offline_config` resolves (`remediate` counts as mandatory, `disabled` skips). Like the real
analyzer, an `UnknownValueError` becomes an advisory "can't run during preview" violation and
`args.not_applicable(reason)` a not-applicable entry (see `offline_report`).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from inspect import isawaitable
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Sequence

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    ResourceValidationPolicy,
    StackValidationPolicy,
)
from pulumi_policy.policy import _NotApplicableError  # raised by args.not_applicable()
from pulumi_policy.proxy import UnknownValueError

from .genai_policies.pack import policies as pack_policies
from .offline_args import ValidationArgsFactory, over_the_wire
from .offline_config import PackConfigError, config_path_for, load_config, resolve_config
from .offline_report import NotApplicable, PolicyReport, Violation, format_report

EXIT_MANDATORY = 1
EXIT_BAD_CONFIG = 2


# --- running the rules ---------------------------------------------------------------------


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
    stack = ValidationArgsFactory(run.resources if hasattr(run, "resources") else run)
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
                _run_validation(policy, stack.resource_args(record, properties), reported, record.urn, out)
        elif isinstance(policy, StackValidationPolicy):
            _run_validation(policy, stack.stack_args(properties), reported, None, out)
    return out


def check(run: Any, config: Optional[Mapping[str, Any]] = None) -> list[Violation]:
    """The violations of every rule against `run` (see `evaluate`)."""
    return evaluate(run, config).violations


# --- command line --------------------------------------------------------------------------


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
