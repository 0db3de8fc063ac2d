"""`--diff GIT_REV`: the same stack rendered at another revision, compared with this checkout.

The old revision is checked out in a temporary `git worktree` (the working tree is never
touched; the worktree is always removed) and run in a subprocess of this interpreter, as
`python -m tools.preview <stack> --out <tmp>` with the worktree as project directory: its
program, components, offline engine and stack file. The subprocess is given *this*
checkout's `tools.preview` and `tools.cost` (a meta-path hook), so both sides are rendered
and priced by the same code: the report shows what the program and config changed, not
what the renderer or the price table changed, and revisions older than this tool work.
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from tools.preview.model import Preview
from tools.preview.render import dump_yaml, is_kubernetes_object, manifest, parse_document
from tools.preview.summary import money

TOOLS_DIR = Path(__file__).resolve().parents[1]
TIMEOUT_SECONDS = 600
MARKDOWN_BUDGET = 60_000  # GitHub comments stop at 65,536 characters
MAX_DIFF_LINES = 400

# Runs in the subprocess: argv = [tree project dir, this checkout's tools dir, preview args...]
BOOTSTRAP = """
import importlib.machinery, runpy, sys
project, tools_dir = sys.argv[1], sys.argv[2]

class CurrentRenderer:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name in ("tools.preview", "tools.cost"):
            return importlib.machinery.PathFinder.find_spec(name, [tools_dir])
        return None

sys.meta_path.insert(0, CurrentRenderer)
sys.path.insert(0, project)
sys.argv = ["tools.preview"] + sys.argv[3:]
runpy.run_module("tools.preview", run_name="__main__", alter_sys=True)
"""


class RevisionError(Exception):
    """The old revision could not be rendered; `str()` says why."""


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
        return self.new_cost["monthlyTotal"] - (self.old_cost or {}).get("monthlyTotal", 0.0)

    def text(self) -> str:
        return render_text(self)

    def markdown(self) -> str:
        return render_markdown(self)


# running the old revision

class RevisionRun:
    """The stack rendered at `rev` in a temporary worktree by a subprocess, started on enter
    so that it runs while this process renders the working tree; on exit the subprocess is
    stopped if still running and the worktree removed, whatever happened."""

    def __init__(self, project_dir: Path, rev: str, stack: str, stack_file: Path) -> None:
        self.project_dir, self.rev, self.stack, self.stack_file = Path(project_dir).resolve(), rev, stack, stack_file
        self.commit: Optional[str] = None
        self.error: Optional[str] = None
        self.tmp: Optional[Path] = None
        self.proc: Optional[subprocess.Popen] = None

    def __enter__(self) -> "RevisionRun":
        try:
            self._start()
        except RevisionError as err:
            self.error = str(err)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def _start(self) -> None:
        toplevel = Path(_git(self.project_dir, "rev-parse", "--show-toplevel")).resolve()
        try:
            self.commit = _git(self.project_dir, "rev-parse", "--verify", "--quiet", f"{self.rev}^{{commit}}")
        except RevisionError:
            raise RevisionError(f"unknown git revision {self.rev!r}") from None
        try:
            stack_rel = self.stack_file.resolve().relative_to(self.project_dir)
        except ValueError:
            raise RevisionError(f"--diff needs a stack file inside the project; {self.stack_file} is not") from None
        self.tmp = Path(tempfile.mkdtemp(prefix="genai-preview-diff-"))
        _git(self.project_dir, "worktree", "add", "--detach", "--quiet", str(self.tree), self.commit)
        old_project = self.tree / self.project_dir.relative_to(toplevel)
        if not (old_project / stack_rel).is_file():
            raise RevisionError(f"{stack_rel} does not exist at {self.rev}")
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
        command = [sys.executable, "-c", BOOTSTRAP, str(old_project), str(TOOLS_DIR), self.stack,
                   "--out", str(self.tmp / "out"), "--project-dir", str(old_project),
                   "--stack-file", str(old_project / stack_rel), "--no-policy"]
        with (self.tmp / "stderr.txt").open("wb") as stderr:  # files, not pipes: nothing can block
            self.proc = subprocess.Popen(command, cwd=old_project, env=env, stdout=subprocess.DEVNULL, stderr=stderr)

    @property
    def tree(self) -> Path:
        assert self.tmp is not None
        return self.tmp / "tree"

    def result(self) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """(resource entries, cost) at `rev`; raises `RevisionError`."""
        if self.error is not None:
            raise RevisionError(self.error)
        assert self.proc is not None and self.tmp is not None
        try:
            code = self.proc.wait(timeout=TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            raise RevisionError(f"the preview at {self.rev} did not finish within {TIMEOUT_SECONDS} s") from None
        if code != 0:
            tail = "\n".join((self.tmp / "stderr.txt").read_text(errors="replace").strip().splitlines()[-20:])
            raise RevisionError(f"the program at {self.rev} failed (exit {code}):\n{tail}")
        try:
            entries = json.loads((self.tmp / "out" / "resources.json").read_text())
            cost = json.loads((self.tmp / "out" / "cost.json").read_text())
        except (OSError, ValueError) as err:
            raise RevisionError(f"the preview at {self.rev} wrote no readable artifacts: {err}") from None
        return entries, cost

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.tmp is not None:
            if self.tree.exists():
                subprocess.run(["git", "-C", str(self.project_dir), "worktree", "remove", "--force", str(self.tree)],
                               capture_output=True)
            shutil.rmtree(self.tmp, ignore_errors=True)
            # forget the worktree even if `remove` failed half-way
            subprocess.run(["git", "-C", str(self.project_dir), "worktree", "prune"], capture_output=True)
            self.tmp = None


def _git(project_dir: Path, *args: str) -> str:
    proc = subprocess.run(["git", "-C", str(project_dir), *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RevisionError(f"git {' '.join(args)}: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout.strip()


def render_revision(project_dir: Path, rev: str, stack: str, stack_file: Path) -> tuple[str, list[dict[str, Any]], dict[str, Any]]:
    """(commit, resource entries, cost) of `stack` at `rev`; raises `RevisionError`."""
    with RevisionRun(project_dir, rev, stack, stack_file) as old:
        entries, cost = old.result()
        return old.commit or rev, entries, cost


def compare_with(preview: Preview, old: RevisionRun) -> DiffReport:
    """The report for `preview` (this checkout) against the old side `old` (waits for it)."""
    report = DiffReport(preview.stack, old.rev, old.commit, preview.entries, preview.cost)
    try:
        report.old_entries, report.old_cost = old.result()
    except RevisionError as err:
        report.error = str(err)
        return report
    report.changes = compare(report.old_entries, report.new_entries)
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
