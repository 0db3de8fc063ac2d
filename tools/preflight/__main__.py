"""CLI: `python -m tools.preflight <stack>`.

Exit status: 0 every check passed, 1 some check failed, 2 the stack settings could not be
loaded (the error is printed, without a traceback).
"""

from __future__ import annotations

import argparse
import ipaddress
import sys
from collections.abc import Callable
from pathlib import Path

from .checks import run_checks
from .context import Clients, target_from_settings
from .report import summary

PROJECT_DIR = Path(__file__).resolve().parents[2]


def _ipv4(value: str) -> str:
    try:
        return str(ipaddress.IPv4Address(value.strip()))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an IPv4 address such as 52.95.110.7") from None


def main(argv: list[str] | None = None, *, make_clients: Callable[[str], Clients] | None = None) -> int:
    """Load the stack settings, run every check, print one line per result.

    `make_clients(region)` replaces the boto3 clients (tests use it).
    """
    parser = argparse.ArgumentParser(prog="python -m tools.preflight", description=__doc__.splitlines()[0])
    parser.add_argument("stack", help="Pulumi stack name, e.g. dev (reads Pulumi.<stack>.yaml)")
    parser.add_argument("--project-dir", type=Path, default=PROJECT_DIR,
                        help=f"directory holding Pulumi.yaml (default: {PROJECT_DIR})")
    parser.add_argument("--egress-ip", metavar="IP", type=_ipv4,
                        help="the public IP `pulumi up` will run from (default: this machine's, "
                             "from https://checkip.amazonaws.com), e.g. a CI runner's")
    args = parser.parse_args(argv)

    try:  # imported here so the checks work (and are testable) without the settings module
        from components.settings import SettingsError, load_stack_settings
    except ImportError as exc:
        print(f"error: cannot import the stack settings loader: {exc}", file=sys.stderr)
        return 2
    try:
        target = target_from_settings(load_stack_settings(args.stack, args.project_dir))
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (OSError, ValueError, TypeError, AttributeError, KeyError) as exc:
        print(f"error: stack {args.stack!r}: cannot read its settings: {exc}", file=sys.stderr)
        return 2

    print(f"preflight for stack {args.stack} in {target.region} (read-only)")
    clients = make_clients(target.region) if make_clients else Clients(target.region)
    if args.egress_ip:
        clients.egress_ip = lambda: args.egress_ip
    results = run_checks(target, clients)
    for result in results:
        print(result.line())
    print(summary(results))
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
