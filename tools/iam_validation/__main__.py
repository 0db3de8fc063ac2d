"""Command line: validate every IAM policy JSON file under a folder, offline.

    python -m tools.iam_validation DIR [--services-dir DIR] [--policy-type identity] [--json]

A file whose name ends in ``.trust.json`` / ``.resource.json`` (or ``.identity``, ``.scp``,
``.rcp``) is validated as that policy type; the others use ``--policy-type``. Exit status is 1
when any finding is reported.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from . import __doc__ as package_doc
from .validator import POLICY_TYPES, validate_policies


def _type_from_filename(path: Path, default: str) -> str:
    for kind in ("trust", "resource", "identity", "scp", "rcp"):
        if path.name.endswith(f".{kind}.json"):
            return kind
    return default


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.iam_validation", description=package_doc.splitlines()[0])
    parser.add_argument("directory", type=Path, help="folder of *.json IAM policy documents (searched recursively)")
    parser.add_argument("--policy-type", default="identity", choices=sorted(POLICY_TYPES))
    parser.add_argument("--services-dir", type=Path, help="service definition cache (default: a temporary folder)")
    parser.add_argument("--json", action="store_true", help="print findings as JSON")
    args = parser.parse_args(argv)

    files = sorted(p for p in args.directory.rglob("*.json") if p.is_file())
    if not files:
        parser.error(f"no *.json files under {args.directory}")
    items = [
        (
            str(p.relative_to(args.directory)),
            json.loads(p.read_text(encoding="utf-8")),
            _type_from_filename(p, args.policy_type),
        )
        for p in files
    ]
    with tempfile.TemporaryDirectory(prefix="iam-services-") as tmp:
        results = validate_policies(items, args.services_dir or tmp)

    if args.json:
        print(json.dumps(results, indent=2, sort_keys=True))
    else:
        for name, findings in results.items():
            print(f"{name}: {'OK' if not findings else f'{len(findings)} finding(s)'}")
            for f in findings:
                print(f"  [{f['severity']}] {f['check_id'] or f['issue_type']}: {f['message']}")
    return 1 if any(results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
