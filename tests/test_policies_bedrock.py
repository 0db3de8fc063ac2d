"""The policy pack's Bedrock rule (`iam-bedrock-invoke-scope`): the dev run's Bedrock role policy
changed one way at a time is reported by exactly that rule; the program's own policy, and the
narrower shapes AWS documents, pass (see tests/policy_cases.py)."""

from __future__ import annotations

import json
from typing import Callable

import pytest

from policy_cases import ROLE_POLICY, assert_variant_reports, covers, only_new, variant
from tools.offline.mocks import ACCOUNT_ID
from tools.offline.records import ResourceRecord

RULE = "iam-bedrock-invoke-scope"
HAIKU = "anthropic.claude-haiku-4-5-20251001-v1:0"
HAIKU_PROFILE = f"arn:aws:bedrock:us-east-1:{ACCOUNT_ID}:inference-profile/us.{HAIKU}"


def edit_policy(edit: Callable[[list[dict]], None]) -> Callable[[ResourceRecord], None]:
    """Change the Bedrock role policy's statements in place."""
    def change(record: ResourceRecord) -> None:
        document = json.loads(record.inputs["policy"])
        edit(document["Statement"])
        record.inputs["policy"] = json.dumps(document)
    return change


def model_statement(statements: list[dict]) -> dict:
    """The statement that allows the Haiku foundation model through its profile."""
    return next(s for s in statements if s.get("Resource") == f"arn:aws:bedrock:*::foundation-model/{HAIKU}")


def set_key(key: str, value) -> Callable[[list[dict]], None]:
    return lambda statements: model_statement(statements).__setitem__(key, value)


def drop_condition(statements: list[dict]) -> None:
    model_statement(statements).pop("Condition")


def wildcard_profiles(statements: list[dict]) -> None:
    statements[0]["Resource"] = [f"arn:aws:bedrock:us-east-1:{ACCOUNT_ID}:inference-profile/*"]


def partial_wildcard_action(statements: list[dict]) -> None:
    statements[0]["Action"] = ["bedrock:Invoke*"]


@covers(RULE)
@pytest.mark.parametrize("edit", [
    drop_condition,  # the model in every region, directly
    set_key("Resource", "arn:aws:bedrock:*::foundation-model/*"),  # every model (through the profile)
    set_key("Resource", "arn:aws:bedrock:us-east-1::foundation-model/anthropic.*"),
    set_key("Condition", {"ArnEqualsIfExists": {"bedrock:InferenceProfileArn": HAIKU_PROFILE}}),  # direct calls pass
    set_key("Condition", {"ArnLike": {"bedrock:InferenceProfileArn": f"arn:aws:bedrock:*:{ACCOUNT_ID}:inference-profile/*"}}),
    set_key("Condition", {"ArnEquals": {"bedrock:InferenceProfileArn": HAIKU_PROFILE.replace("haiku-4-5", "opus-4-1")}}),
    set_key("Condition", {"ArnNotEquals": {"bedrock:InferenceProfileArn": HAIKU_PROFILE}}),
    set_key("Condition", {"ArnLike": {"bedrock:InferenceProfileArn": [  # any value may match: as wide as the wildcard
        HAIKU_PROFILE, f"arn:aws:bedrock:us-east-1:{ACCOUNT_ID}:inference-profile/*"]}}),
    wildcard_profiles,
    partial_wildcard_action,
], ids=["no-condition", "wildcard-model", "partial-wildcard-model", "if-exists", "wildcard-profile-condition",
        "other-models-profile", "negated-condition", "exact-or-wildcard-profile", "wildcard-profile", "invoke-star"])
def test_bedrock_invoke_scope(dev, dev_reported, edit):
    assert_variant_reports(dev, dev_reported, RULE, ROLE_POLICY, "bedrock", edit_policy(edit))


@pytest.mark.parametrize("edit", [
    # AWS's global-profile form: the region-less model ARN and the source region's, through the profile
    set_key("Resource", [f"arn:aws:bedrock:::foundation-model/{HAIKU}", f"arn:aws:bedrock:us-east-1::foundation-model/{HAIKU}"]),
    # narrower than the program's: a listed destination region, or one operator spelled StringEquals
    set_key("Resource", f"arn:aws:bedrock:us-west-2::foundation-model/{HAIKU}"),
    set_key("Condition", {"StringEquals": {"bedrock:InferenceProfileArn": HAIKU_PROFILE}}),
    # a bare model invoked on demand in the stack's region
    lambda statements: statements.append({"Effect": "Allow", "Action": ["bedrock:InvokeModel"],
                                          "Resource": ["arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-text-express-v1"]}),
], ids=["global-form", "listed-region", "string-equals", "bare-model-in-region"])
def test_documented_narrower_shapes_pass(dev, dev_reported, edit):
    records, _ = variant(dev, ROLE_POLICY, "bedrock", edit_policy(edit))
    assert only_new(dev_reported, records) == set()
