"""The stack rendered at another git revision, for `--diff GIT_REV`.

The old revision is checked out in a temporary `git worktree` (the working tree is never
touched; the worktree is always removed) and run in a subprocess of this interpreter, as
`python -m tools.preview <stack> --out <tmp>` with the worktree as project directory: its
program, components, offline engine and stack file. The subprocess is given *this*
checkout's `tools.preview` and `tools.cost` (a meta-path hook), so both sides are rendered
and priced by the same code: the report shows what the program and config changed, not
what the renderer or the price table changed, and revisions older than this tool work.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Optional

TOOLS_DIR = Path(__file__).resolve().parents[1]
TIMEOUT_SECONDS = 600

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
