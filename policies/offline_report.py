"""What `policies.offline` reports: violations, not-applicable entries, and their text form."""

from __future__ import annotations

from dataclasses import dataclass, field

from pulumi_policy import EnforcementLevel


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
