"""`--diff GIT_REV`: the same stack rendered at another revision, compared with this checkout.

The old side comes from `tools.preview.revision` (a git worktree rendered by a subprocess);
here the two sides are compared resource by resource (by URN: added, removed, changed with a
unified diff of the manifest or inputs) and reported as text or as a Markdown PR comment,
with the resource counts and the monthly cost on both sides.
"""

from __future__ import annotations

import difflib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Optional

from tools.offline.updates import update_findings
from tools.preview.model import Preview
from tools.preview.render import dump_yaml, is_kubernetes_object, manifest, parse_document
from tools.preview.revision import RevisionError, RevisionRun, render_revision  # noqa: F401 - render_revision re-exported
from tools.preview.cost_section import money

MARKDOWN_BUDGET = 60_000  # GitHub comments stop at 65,536 characters
MAX_DIFF_LINES = 400


@dataclass
class Change:
    """One resource added, removed or changed, with what a reviewer should read."""

    status: str
    urn: str
    type: str
    name: str
    detail: str = ""


@dataclass
class DiffReport:
    """The comparison of a stack at `rev` (old) with the working tree (new)."""

    stack: str
    rev: str
    commit: Optional[str]
    new_entries: list[dict[str, Any]]
    new_cost: dict[str, Any]
    old_entries: Optional[list[dict[str, Any]]] = None
    old_cost: Optional[dict[str, Any]] = None
    error: Optional[str] = None
    changes: list[Change] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    """What `pulumi up` of this change would have refused or deleted (tools.offline.updates)."""

    def of(self, status: str) -> list[Change]:
        return [c for c in self.changes if c.status == status]

    @property
    def title(self) -> str:
        at = f"`{self.rev}`" + (f" ({self.commit[:12]})" if self.commit and not self.commit.startswith(self.rev) else "")
        return f"Preview diff of stack `{self.stack}`: {at} → working tree"

    def count_changes(self) -> list[tuple[str, int, int]]:
        """(type, old count, new count) for every type whose count changed."""
        old = Counter(e["type"] for e in self.old_entries or [])
        new = Counter(e["type"] for e in self.new_entries)
        return [(t, old[t], new[t]) for t in sorted(old.keys() | new.keys()) if old[t] != new[t]]

    def cost_rows(self) -> list[tuple[str, float, float]]:
        old = (self.old_cost or {}).get("byComponent", {})
        new = self.new_cost.get("byComponent", {})
        return [(c, old.get(c, 0.0), new.get(c, 0.0)) for c in sorted(old.keys() | new.keys())]

    @property
    def cost_delta(self) -> float:
        # From the lines' unrounded amounts: two totals rounded to cents can differ by a cent more
        # than what changed
        def total(cost: dict[str, Any]) -> float:
            if "lines" not in cost:
                return cost.get("monthlyTotal", 0.0)
            return sum(line["quantity"] * line["usd"] for line in cost["lines"])
        return round(total(self.new_cost) - total(self.old_cost or {}), 2)

    def text(self) -> str:
        return render_text(self)

    def markdown(self) -> str:
        return render_markdown(self)


def compare_with(preview: Preview, old: RevisionRun) -> DiffReport:
    """The report for `preview` (this checkout) against the old side `old` (waits for it)."""
    report = DiffReport(preview.stack, old.rev, old.commit, preview.entries, preview.cost)
    try:
        report.old_entries, report.old_cost = old.result()
    except RevisionError as err:
        report.error = str(err)
        return report
    report.changes = compare(report.old_entries, report.new_entries)
    report.warnings = update_findings(report.old_entries, report.new_entries)
    return report


# comparing

def _expand(value: Any) -> Any:
    """JSON documents inside strings (IAM policies) as data, so they diff line by line."""
    if isinstance(value, str) and value[:1] in "{[":
        parsed = parse_document(value)
        return _expand(parsed) if not isinstance(parsed, str) else value
    if isinstance(value, dict):
        return {k: _expand(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v) for v in value]
    return value


def view(entry: dict[str, Any], with_dependencies: bool = False) -> str:
    """What a reviewer reads for one resource: its manifest, or its inputs."""
    text = dump_yaml(manifest(entry)) if is_kubernetes_object(entry) else dump_yaml({"inputs": _expand(entry["inputs"])})
    if entry.get("protect"):
        text += "# protect: true (a destroy stops here)\n"
    if with_dependencies:
        text += "# dependsOn:\n" + "".join(f"#   {urn}\n" for urn in entry["dependencies"])
    return text


def unified(old: dict[str, Any], new: dict[str, Any]) -> str:
    deps = old["dependencies"] != new["dependencies"]
    label = f"{new['type']} {new['name']}"
    lines = list(difflib.unified_diff(view(old, deps).splitlines(keepends=True), view(new, deps).splitlines(keepends=True),
                                      fromfile=f"a/{label}", tofile=f"b/{label}", n=3))
    if len(lines) > MAX_DIFF_LINES:
        lines = lines[:MAX_DIFF_LINES] + [f"... {len(lines) - MAX_DIFF_LINES} more diff lines\n"]
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def compare(old_entries: list[dict[str, Any]], new_entries: list[dict[str, Any]]) -> list[Change]:
    """Added, removed and changed resources by URN, in URN order within each group."""
    old = {e["urn"]: e for e in old_entries}
    new = {e["urn"]: e for e in new_entries}
    changes = [Change("added", u, new[u]["type"], new[u]["name"], view(new[u])) for u in sorted(new.keys() - old.keys())]
    changes += [Change("removed", u, old[u]["type"], old[u]["name"], view(old[u])) for u in sorted(old.keys() - new.keys())]
    changes += [Change("changed", u, new[u]["type"], new[u]["name"], unified(old[u], new[u]))
                for u in sorted(old.keys() & new.keys()) if old[u] != new[u]]
    return changes


# rendering

def _signed(value: float) -> str:
    return ("+" if value >= 0.005 else "-" if value <= -0.005 else "±") + money(abs(value))


def render_text(report: DiffReport) -> str:
    out = [report.title.replace("`", ""), ""]
    if report.error is not None:
        out += [f"The old revision could not be rendered: {report.error}", "",
                f"Working tree: {len(report.new_entries)} resources, {money(report.new_cost['monthlyTotal'])}/month"]
        return "\n".join(out) + "\n"
    old_n, new_n = len(report.old_entries or []), len(report.new_entries)
    unchanged = new_n - len(report.of("added")) - len(report.of("changed"))
    out.append(f"Resources: {old_n} -> {new_n} ({len(report.of('added'))} added, {len(report.of('removed'))} removed, "
               f"{len(report.of('changed'))} changed, {unchanged} unchanged)")
    out.append(f"Monthly cost: {money(report.old_cost['monthlyTotal'])} -> {money(report.new_cost['monthlyTotal'])} "
               f"({_signed(report.cost_delta)})")
    for type_, old, new in report.count_changes():
        out.append(f"  {type_}: {old} -> {new}")
    if report.warnings:
        out += ["", "Update warnings (what `pulumi up` of this change does to a live stack):"]
        out += [f"  ! {w}" for w in report.warnings]
    for status, mark in (("added", "+"), ("removed", "-")):
        if report.of(status):
            out += ["", f"{status.capitalize()}:"]
            out += [f"  {mark} {c.type}  {c.name}" for c in report.of(status)]
    if report.of("changed"):
        out += ["", "Changed:"]
        for change in report.of("changed"):
            out += [f"  ~ {change.type}  {change.name}", *("    " + line for line in change.detail.splitlines())]
    rows = [r for r in report.cost_rows() if abs(r[2] - r[1]) >= 0.005]
    if rows:
        out += ["", "Cost by component (USD/month):"]
        width = max(len(c) for c, _, _ in rows)
        out += [f"  {c:<{width}}  {money(o):>12} -> {money(n):>12}  ({_signed(n - o)})" for c, o, n in rows]
    if not report.changes:
        out += ["", "No changes."]
    return "\n".join(out) + "\n"


def _fence(text: str) -> str:
    ticks = "```"
    while ticks in text:
        ticks += "`"
    return ticks


def render_markdown(report: DiffReport) -> str:
    out = [f"### {report.title}", ""]
    if report.error is not None:
        fence = _fence(report.error)
        out += ["**The old revision could not be rendered**, so there is nothing to compare:", "",
                fence, report.error, fence, "",
                f"Working tree: {len(report.new_entries)} resources, **{money(report.new_cost['monthlyTotal'])}/month**.", ""]
        return "\n".join(out)
    old_n, new_n = len(report.old_entries or []), len(report.new_entries)
    out += ["| | count |", "|---|---:|",
            f"| resources | {old_n} → {new_n} |",
            f"| added | {len(report.of('added'))} |",
            f"| removed | {len(report.of('removed'))} |",
            f"| changed | {len(report.of('changed'))} |", ""]
    counts = report.count_changes()
    if counts:
        out += ["| type | old | new |", "|---|---:|---:|", *(f"| `{t}` | {o} | {n} |" for t, o, n in counts), ""]
    out += ["| component | old USD/month | new USD/month | delta |", "|---|---:|---:|---:|"]
    out += [f"| {c} | {money(o)} | {money(n)} | {_signed(n - o)} |" for c, o, n in report.cost_rows() if o or n]
    out += [f"| **total** | **{money(report.old_cost['monthlyTotal'])}** | **{money(report.new_cost['monthlyTotal'])}** "
            f"| **{_signed(report.cost_delta)}** |", ""]
    if report.warnings:
        out += ["**Update warnings** (what `pulumi up` of this change does to a live stack):", ""]
        out += [f"- {w}" for w in report.warnings] + [""]
    if not report.changes:
        out.append("No resource changes.")
        return "\n".join(out) + "\n"

    size = sum(len(line) + 1 for line in out)
    skipped = 0
    for status, heading, language in (("changed", "Changed", "diff"), ("added", "Added", "yaml"), ("removed", "Removed", "")):
        changes = report.of(status)
        if not changes:
            continue
        out += [f"#### {heading} ({len(changes)})", ""]
        for change in changes:
            summary = f"<code>{change.type}</code> {change.name}"
            if status == "removed":
                block = [f"- {summary}"]
            else:
                fence = _fence(change.detail)
                block = [f"<details><summary>{summary}</summary>", "", f"{fence}{language}", change.detail.rstrip("\n"),
                         fence, "", "</details>", ""]
            block_size = sum(len(line) + 1 for line in block)
            if size + block_size > MARKDOWN_BUDGET:
                skipped += 1
                block = [f"- {summary} (details left out: comment size limit)"]
                block_size = sum(len(line) + 1 for line in block)
            out += block
            size += block_size
        out.append("")
    if skipped:
        out.append(f"_{skipped} object diffs left out to fit a PR comment; run "
                   f"`python -m tools.preview {report.stack} --diff {report.rev}` locally for all of them._")
    return "\n".join(out) + "\n"
