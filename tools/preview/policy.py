"""The policy pack's verdict on a preview: `policy.json`, a summary section, the exit code."""

from __future__ import annotations

from typing import Any

from tools.offline.records import StackRun


def policy_results(run: StackRun) -> dict[str, Any]:
    """Run every rule of `policies/` with the stack's pack config (`policies/config.<stack>.json`),
    or with the pack's own defaults when the stack has none (as CI runs it)."""
    from policies.offline import evaluate  # noqa: PLC0415 - pulumi_policy loads only when previewing
    from policies.offline_config import config_path_for, load_config  # noqa: PLC0415

    path = config_path_for(run.stack)
    report = evaluate(run, load_config(path) if path.exists() else None)

    def violations(items) -> list[dict[str, str]]:
        return sorted(({"policy": v.policy_name, "urn": v.urn, "message": v.message} for v in items),
                      key=lambda v: (v["policy"], v["urn"], v["message"]))

    return {
        "config": f"policies/{path.name}" if path.exists() else None,
        "mandatory": violations(report.mandatory),
        "advisory": violations(report.advisory),
        "notApplicable": sorted(({"policy": n.policy_name, "urn": n.urn, "reason": n.reason}
                                 for n in report.not_applicable), key=lambda n: (n["policy"], n["urn"])),
    }


def _headline(results: dict[str, Any]) -> str:
    config = results["config"] or "built-in defaults"
    return (f"{len(results['mandatory'])} mandatory and {len(results['advisory'])} advisory violation(s), "
            f"{len(results['notApplicable'])} documented exemption(s); pack config: {config}")


def policy_text(results: dict[str, Any]) -> list[str]:
    """The summary's policy section, plain text."""
    out = ["Policy pack", f"  {_headline(results)}"]
    for level in ("mandatory", "advisory"):
        out += [f"  [{level}] {v['policy']}: {v['urn'] or '(stack)'}\n      {v['message']}" for v in results[level]]
    return out


def policy_markdown(results: dict[str, Any]) -> list[str]:
    """The summary's policy section, markdown."""
    out = ["## Policy pack", "", _headline(results) + ".", ""]
    rows = [(level, v) for level in ("mandatory", "advisory") for v in results[level]]
    if rows:
        out += ["| level | policy | resource | message |", "|---|---|---|---|"]
        out += [f"| {level} | {v['policy']} | `{v['urn'] or '(stack)'}` | {v['message'].replace('|', '/')} |"
                for level, v in rows]
        out.append("")
    return out
