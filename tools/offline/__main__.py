"""`python -m tools.offline <stack>`: run the program offline and print resource counts by type.

Exit codes: 0 ok, 2 invalid stack configuration (the message, no traceback).
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from tools.offline.errors import run_or_exit


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.offline", description=__doc__)
    parser.add_argument("stack", help="stack name: reads Pulumi.<stack>.yaml")
    parser.add_argument("--stack-file", type=Path, help="read this stack file instead")
    args = parser.parse_args(argv)
    run = run_or_exit(args.stack, stack_file=args.stack_file)
    for type_, count in sorted(Counter(r.type for r in run.resources).items()):
        print(f"{count:4d}  {type_}")
    print(f"{len(run.resources):4d}  resources")
    return 0


if __name__ == "__main__":
    from tools.offline.process import run_command

    run_command(main)
