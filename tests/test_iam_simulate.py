"""The IAM evaluation the Bedrock tests replay requests with (tools/iam_validation/simulate.py):
the parts of IAM's documented matching that the verdicts depend on."""

from __future__ import annotations

import pytest

from tools.iam_validation.simulate import allows, arn_matches

PROFILE = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.m-v1:0"


def doc(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


@pytest.mark.parametrize("pattern, arn, expected", [
    ("arn:aws:bedrock:*::foundation-model/m-v1:0", "arn:aws:bedrock:us-west-1::foundation-model/m-v1:0", True),
    ("arn:aws:bedrock:*::foundation-model/m-v1:0", "arn:aws:bedrock:::foundation-model/m-v1:0", True),  # `*` matches none
    ("arn:aws:bedrock:*::foundation-model/m-v1:0", "arn:aws:bedrock:us-west-1::foundation-model/n-v1:0", False),
    ("arn:aws:bedrock:us-east-1::foundation-model/m-v1:0", "arn:aws:bedrock:us-east-2::foundation-model/m-v1:0", False),
    ("arn:aws:bedrock:*::foundation-model/m-v1:0", "arn:aws-us-gov:bedrock:us-gov-west-1::foundation-model/m-v1:0", False),
])
def test_arn_matching_is_per_segment(pattern, arn, expected):
    assert arn_matches(pattern, arn) is expected


def test_condition_key_absent_fails_unless_if_exists():
    model = "arn:aws:bedrock:us-west-2::foundation-model/m-v1:0"
    grant = {"Effect": "Allow", "Action": "bedrock:InvokeModel", "Resource": "arn:aws:bedrock:*::foundation-model/m-v1:0",
             "Condition": {"ArnEquals": {"bedrock:InferenceProfileArn": PROFILE}}}
    assert allows(doc(grant), "bedrock:invokemodel", model, {"bedrock:InferenceProfileArn": PROFILE})
    assert not allows(doc(grant), "bedrock:InvokeModel", model)
    lax = {**grant, "Condition": {"ArnEqualsIfExists": {"bedrock:InferenceProfileArn": PROFILE}}}
    assert allows(doc(lax), "bedrock:InvokeModel", model)


def test_explicit_deny_wins():
    allow = {"Effect": "Allow", "Action": "bedrock:Invoke*", "Resource": "*"}
    deny = {"Effect": "Deny", "Action": "bedrock:InvokeModel", "Resource": PROFILE}
    assert allows(doc(allow), "bedrock:InvokeModel", PROFILE)
    assert not allows(doc(allow, deny), "bedrock:InvokeModel", PROFILE)
    assert allows(doc(allow, deny), "bedrock:InvokeModelWithResponseStream", PROFILE)
