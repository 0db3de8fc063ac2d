"""An iam-validator check for Bedrock invoke grants: the documented inference-profile shape only.

iam-validator's built-in checks accept `arn:aws:bedrock:*::foundation-model/*` and a wildcard-region
model without any condition (neither is `Resource: "*"`), although the first grants every model and
the second every region directly. This check reports what the policy pack's `iam-bedrock-invoke-scope`
rule reports, from the same code (policies/genai_policies/bedrock_scope.py), so both accept exactly
the shape components/bedrock_access.py renders.
"""

from __future__ import annotations

from typing import Any, ClassVar

from iam_validator.core.check_registry import CheckConfig, PolicyCheck
from iam_validator.core.models import Statement, ValidationIssue

from policies.genai_policies.bedrock_scope import statement_findings

CHECK_ID = "bedrock_invoke_scope"


class BedrockInvokeScopeCheck(PolicyCheck):
    """Bedrock invoke grants: profile ARNs, their models in any region only through them."""

    check_id: ClassVar[str] = CHECK_ID
    description: ClassVar[str] = (
        "Bedrock InvokeModel grants name inference profiles, and foundation models in any region only "
        "with a bedrock:InferenceProfileArn condition; no wildcard model or profile"
    )
    default_severity: ClassVar[str] = "high"
    applies_to_policy_types: ClassVar[frozenset[str] | None] = frozenset({"IDENTITY_POLICY", "RESOURCE_POLICY"})

    async def execute(self, statement: Statement, statement_idx: int, fetcher: Any,
                      config: CheckConfig) -> list[ValidationIssue]:
        raw = statement.model_dump(by_alias=True, exclude_none=True)
        return [
            ValidationIssue(
                severity=self.get_severity(config),
                statement_sid=statement.sid,
                statement_index=statement_idx,
                issue_type="overly_permissive",
                message=f"{what}: {problem}",
                resource=what if what.startswith("arn:") else None,
                action=None if what.startswith("arn:") else what,
                suggestion=("Grant the inference profile ARN, and its foundation model as "
                            "arn:<partition>:bedrock:*::foundation-model/<model> with Condition ArnEquals "
                            "bedrock:InferenceProfileArn = <profile ARN>"),
                line_number=statement.line_number,
                field_name="resource" if what.startswith("arn:") else "action",
            )
            for what, problem in statement_findings(raw)
        ]
