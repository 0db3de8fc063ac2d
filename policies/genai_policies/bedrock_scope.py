"""What a Bedrock invoke grant may look like: AWS's documented inference-profile shape, nothing wider.

Shared by the policy pack's `iam-bedrock-invoke-scope` rule (policies/genai_policies/iam.py) and the
offline IAM validation (tools/iam_validation): plain Python, no Pulumi or iam-validator import.

The accepted shape (Bedrock user guide, "Prerequisites for inference profiles"; "Global
cross-Region inference"), with InvokeModel / InvokeModelWithResponseStream named explicitly:
- an inference profile: `arn:P:bedrock:REGION:ACCOUNT:inference-profile/ID`, no wildcard;
- its foundation model in any region, only through the profile:
  `arn:P:bedrock:*::foundation-model/MODEL` with `ArnEquals` (or `ArnLike`, `StringEquals`,
  `StringLike`) on `bedrock:InferenceProfileArn` naming exact profile ARNs of that model;
- a foundation model in one named region (a bare model id invoked on demand).
Anything else in an Allow that grants a Bedrock invoke action is a finding: a wildcard model, a
wildcard-region model without the profile condition (direct calls to the model in every region), an
`...IfExists` profile condition (absent on direct calls, so it allows them), a wildcard profile, or
a partial wildcard action such as `bedrock:Invoke*` (also InvokeAgent, InvokeFlow, ...; `*` and
`bedrock:*` are the no-wildcards rule's).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence
from typing import Any, Iterator

INVOKE_ACTIONS = ("bedrock:invokemodel", "bedrock:invokemodelwithresponsestream")
PROFILE_CONDITION_KEY = "bedrock:inferenceprofilearn"
# Operators that require the key to be present and equal to (or match) the given values.
PROFILE_OPERATORS = frozenset({"arnequals", "arnlike", "stringequals", "stringlike"})
_WILDCARD = re.compile(r"[*?]")
_PROFILE_ARN = re.compile(r"^arn:[a-z-]+:bedrock:[a-z0-9-]+:\d{12}:inference-profile/[a-z-]+\.(?P<model>.+)$")


def _values(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        return [value]
    return list(value)


def _grants_invoke(action: str) -> bool:
    action = str(action).lower()
    return any(fnmatch.fnmatchcase(invoke, action) for invoke in INVOKE_ACTIONS)


def _profile_models(condition: Any) -> tuple[set[str], list[str]]:
    """(models of the exact profile ARNs the condition requires, problems with the condition)."""
    models: set[str] = set()
    problems: list[str] = []
    if not isinstance(condition, Mapping):
        return models, problems
    for operator, block in condition.items():
        if not isinstance(block, Mapping):
            continue
        for key, value in block.items():
            if str(key).lower() != PROFILE_CONDITION_KEY:
                continue
            if str(operator).lower() not in PROFILE_OPERATORS:
                problems.append(f"condition operator {operator} on bedrock:InferenceProfileArn does not require the "
                                "profile (an ...IfExists or negated operator lets direct calls through)")
                continue
            for arn in _values(value):
                match = _PROFILE_ARN.match(str(arn))
                if not match or _WILDCARD.search(str(arn)):
                    problems.append(f"bedrock:InferenceProfileArn {arn!r} is not one exact inference-profile ARN")
                else:
                    models.add(match.group("model"))
    return models, problems


def statement_findings(statement: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(resource or action, problem) for each way this statement grants Bedrock invoke beyond the shape."""
    if statement.get("Effect", "Allow") != "Allow":
        return
    actions = [str(a) for a in _values(statement.get("Action"))]
    invoke = [a for a in actions if _grants_invoke(a)]
    if not invoke:
        return
    for action in invoke:
        if action != "*" and not action.lower().endswith(":*") and _WILDCARD.search(action):  # those: iam-no-wildcards
            yield action, ("a wildcard action: it also grants other Bedrock actions (InvokeAgent, InvokeFlow, ...); "
                           "name bedrock:InvokeModel and bedrock:InvokeModelWithResponseStream")
    profile_models, condition_problems = _profile_models(statement.get("Condition"))
    for resource in (str(r) for r in _values(statement.get("Resource"))):
        parts = resource.split(":", 5)
        if resource == "*" or len(parts) < 6 or parts[2] != "bedrock":
            continue  # Resource "*" is the no-wildcards rule's; other services are not Bedrock's
        region, account, kind_id = parts[3], parts[4], parts[5]
        kind, _, ident = kind_id.partition("/")
        if kind == "foundation-model":
            if _WILDCARD.search(ident) or not ident:
                yield resource, "a wildcard foundation model: name the model"
            elif _WILDCARD.search(region) and (condition_problems or ident not in profile_models):
                problems = "; ".join(condition_problems) or "no bedrock:InferenceProfileArn condition names a profile of it"
                yield resource, (f"the model in every region, not only through its inference profile ({problems}); "
                                 "add Condition ArnEquals bedrock:InferenceProfileArn = the profile's ARN")
            continue
        if _WILDCARD.search(f"{region}:{account}:{kind_id}"):
            yield resource, f"a wildcard {kind or 'resource'}: name the exact ARN in the stack's region"
