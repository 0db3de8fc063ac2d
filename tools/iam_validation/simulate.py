"""Evaluate an identity policy for one request, the way IAM does for the parts our policies use.

`allows(document, action, resource, context)`: an explicit Deny wins, else an Allow whose Action,
Resource and Condition all match (IAM user guide, "Policy evaluation logic"). Matching follows the IAM
user guide: actions case-insensitively with `*`/`?`; resource ARNs segment by segment (the parts
between colons), `*` being any run of characters, none included ("IAM JSON policy elements:
Resource"); conditions: every operator block and key must match, any value of a key may
(`ArnEquals`/`ArnLike` and `StringEquals`/`StringLike`, with the `...IfExists` forms); a key
absent from the request fails its condition unless the operator ends in `IfExists`.

Used by the tests to replay the requests Bedrock authorises for a cross-region call: the inference
profile in the source region, then the foundation model in the destination region with
`bedrock:InferenceProfileArn` in the request context (Bedrock user guide, "Prerequisites for
inference profiles").
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from typing import Any

_SUPPORTED = {"arnequals", "arnlike", "stringequals", "stringlike"}


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def _glob(pattern: str, value: str) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value) is not None


def arn_matches(pattern: str, arn: str) -> bool:
    """`pattern` matches `arn` segment by segment (a bare `*` matches everything)."""
    if pattern == "*":
        return True
    pattern_parts, arn_parts = pattern.split(":", 5), arn.split(":", 5)
    return len(pattern_parts) == len(arn_parts) == 6 and all(
        _glob(p, a) for p, a in zip(pattern_parts, arn_parts)
    )


def _condition_holds(condition: Mapping[str, Any], context: Mapping[str, str]) -> bool:
    keys = {k.lower(): v for k, v in context.items()}
    for operator, block in condition.items():
        name = operator.lower()
        if_exists = name.endswith("ifexists")
        base = name[: -len("ifexists")] if if_exists else name
        if base not in _SUPPORTED:
            raise ValueError(f"condition operator {operator} is not simulated")
        for key, values in block.items():
            actual = keys.get(key.lower())
            if actual is None:
                if if_exists:
                    continue
                return False
            match = arn_matches if base.startswith("arn") else _glob if base == "stringlike" else str.__eq__
            if not any(match(str(p), actual) for p in _listed(values)):
                return False
    return True


def _statement_matches(statement: Mapping[str, Any], action: str, resource: str, context: Mapping[str, str]) -> bool:
    if "NotAction" in statement or "NotResource" in statement:
        raise ValueError("NotAction / NotResource are not simulated")
    return (
        any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in _listed(statement.get("Action")))
        and any(arn_matches(r, resource) for r in _listed(statement.get("Resource")))
        and _condition_holds(statement.get("Condition") or {}, context)
    )


def allows(document: Mapping[str, Any], action: str, resource: str, context: Mapping[str, str] | None = None) -> bool:
    """Whether `document` allows `action` on `resource` for a request with `context` keys."""
    context = context or {}
    statements = _listed(document.get("Statement")) if not isinstance(document.get("Statement"), Mapping) \
        else [document["Statement"]]
    matched = [s for s in statements if _statement_matches(s, action, resource, context)]
    if any(s.get("Effect") == "Deny" for s in matched):
        return False
    return any(s.get("Effect") == "Allow" for s in matched)
