"""`python -m tools.preview <stack> [--out DIR] [--diff GIT_REV] [--format text|markdown]`

Runs the program for Pulumi.<stack>.yaml offline and prints the resource tree, counts by
type, what is exposed and how to reach it, and the monthly cost estimate.
  --out DIR      also write DIR/resources.json, manifests/, iam/, config/, cost.json, summary.md
  --diff REV     print what changes against git revision REV (PR comment with --format markdown)
Exit codes: 0 ok, 1 a mandatory policy violation (see the summary's policy section),
2 invalid stack configuration (the message, no traceback).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import Optional


EXIT_MANDATORY_VIOLATION = 1


def parse_args(argv: Optional[list[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.preview",
                                     description="Offline preview of a stack: summary, artifacts, PR diff, monthly cost.",
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[2:]))
    parser.add_argument("stack", help="stack name: reads Pulumi.<stack>.yaml")
    parser.add_argument("--out", type=Path, help="write the artifacts to this directory")
    parser.add_argument("--diff", metavar="GIT_REV", help="compare with the same stack at this git revision")
    parser.add_argument("--format", choices=("text", "markdown"), default="text", help="output format (default text)")
    parser.add_argument("--stack-file", type=Path, help="read this stack file instead of Pulumi.<stack>.yaml")
    parser.add_argument("--project-dir", type=Path, help="the Pulumi project (default: this checkout)")
    parser.add_argument("--no-policy", action="store_true", help="skip the policy pack (and its exit code)")
    return parser.parse_args(argv)


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    # imported after argument parsing so that --help stays fast
    from components.settings import SettingsError
    from components.settings.loading import parse_settings, read_stack_file
    from tools.offline.errors import EXIT_BAD_CONFIG, run_or_exit
    from tools.preview.model import make_preview

    from tools.offline.engine import PROJECT_DIR

    project_dir = (args.project_dir or PROJECT_DIR).resolve()
    stack_file = (args.stack_file or project_dir / f"Pulumi.{args.stack}.yaml").resolve()
    with contextlib.ExitStack() as cleanup:
        old = None
        if args.diff:  # the old revision renders in a subprocess while this one runs below
            from tools.preview.revision import RevisionRun

            old = cleanup.enter_context(RevisionRun(project_dir, args.diff, args.stack, stack_file))
        run = run_or_exit(args.stack, stack_file=stack_file, project_dir=project_dir)
        try:
            settings = parse_settings(read_stack_file(stack_file)[0], stack_file.name)
        except SettingsError as err:  # the program accepted it, so this is unlikely
            print(f"error: {err}", file=sys.stderr)
            return EXIT_BAD_CONFIG
        preview = make_preview(run, region=settings.region, pricing=settings.pricing, policies=not args.no_policy)

        if args.out:
            from tools.preview.render import write

            write(args.out, preview.files())
        if old is not None:
            from tools.preview.diff import compare_with

            report = compare_with(preview, old)
            print(report.markdown() if args.format == "markdown" else report.text(), end="")
        else:
            print(preview.summary.markdown() if args.format == "markdown" else preview.summary.text(), end="")
    return EXIT_MANDATORY_VIOLATION if preview.mandatory_violations else 0


if __name__ == "__main__":
    from tools.offline.process import run_command

    run_command(main)
