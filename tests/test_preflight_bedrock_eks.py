"""Preflight checks 4 and 5: Bedrock models and inference profiles, and the EKS version (both answered
by Stubber: moto lacks these operations)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from preflight_cases import aws_env, moto_aws, stubs  # noqa: F401 - fixtures (the first two autouse)
from preflight_cases import (
    EKS_CATALOG,
    FM_ARN,
    NOW,
    PROFILE,
    aws,
    cluster_versions,
    make_target,
)
from tools.preflight.bedrock import check_bedrock_models, is_inference_profile
from tools.preflight.eks import check_eks_version


# --- 4. Bedrock (Stubber: moto lacks these Bedrock operations) -------------------------------


def test_bedrock_profile_and_foundation_model_pass(stubs):
    """Bedrock stubbed with Stubber: moto has no GetInferenceProfile / GetFoundationModel."""
    clients = aws("us-east-1")
    bedrock = stubs(clients, "bedrock")
    bedrock.add_response("get_inference_profile", {
        "inferenceProfileName": "US Claude Haiku 4.5", "inferenceProfileArn": "arn:aws:bedrock:us-east-1:1:x",
        "models": [{"modelArn": FM_ARN}], "inferenceProfileId": PROFILE, "status": "ACTIVE",
        "type": "SYSTEM_DEFINED",
    }, {"inferenceProfileIdentifier": PROFILE})
    bedrock.add_response("get_foundation_model", {"modelDetails": {
        "modelArn": "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0",
        "modelId": "amazon.nova-lite-v1:0", "modelLifecycle": {"status": "ACTIVE"},
    }}, {"modelIdentifier": "amazon.nova-lite-v1:0"})
    results = check_bedrock_models(make_target(bedrock_model_ids=[PROFILE, "amazon.nova-lite-v1:0"]), clients)
    assert [r.passed for r in results] == [True, True], [r.line() for r in results]


def test_bedrock_unknown_profile_fails_naming_it(stubs):
    """Bedrock stubbed with Stubber; an eu. profile from us-east-1 gets a geo hint."""
    clients = aws("us-east-1")
    bad = "eu.anthropic.claude-haiku-4-5-20251001-v1:0"
    stubs(clients, "bedrock").add_client_error(
        "get_inference_profile", "ResourceNotFoundException", "not found", 404,
        expected_params={"inferenceProfileIdentifier": bad})
    [result] = check_bedrock_models(make_target(bedrock_model_ids=[bad]), clients)
    assert not result.passed and bad in result.name and bad in result.detail
    assert "list-inference-profiles" in result.fix and PROFILE in result.fix


def test_bedrock_legacy_model_fails(stubs):
    """Bedrock stubbed with Stubber."""
    clients = aws("us-east-1")
    stubs(clients, "bedrock").add_response("get_foundation_model", {"modelDetails": {
        "modelArn": "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-v2",
        "modelId": "anthropic.claude-v2", "modelLifecycle": {"status": "LEGACY"},
    }})
    [result] = check_bedrock_models(make_target(bedrock_model_ids=["anthropic.claude-v2"]), clients)
    assert not result.passed and "LEGACY" in result.detail


def test_bedrock_access_denied_is_a_fail_per_model(stubs):
    """Bedrock errors injected with Stubber: one model denied, the next still checked."""
    clients = aws("us-east-1")
    bedrock = stubs(clients, "bedrock")
    bedrock.add_client_error("get_inference_profile", "AccessDeniedException", "denied", 403)
    bedrock.add_client_error("get_foundation_model", "ValidationException", "bad id", 400)
    results = check_bedrock_models(make_target(bedrock_model_ids=[PROFILE, "nope.model"]), clients)
    assert [r.passed for r in results] == [False, False]
    assert "bedrock:GetInferenceProfile" in results[0].fix
    assert "nope.model" in results[1].detail


@pytest.mark.parametrize("model_id, expected", [
    (PROFILE, True), ("global.anthropic.claude-sonnet-4-5-20250929-v1:0", True),
    ("apac.amazon.nova-lite-v1:0", True), ("anthropic.claude-3-haiku-20240307-v1:0", False),
    ("arn:aws:bedrock:us-east-1:1:application-inference-profile/abc", True),
    ("arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0", False),
])
def test_inference_profile_detection(model_id, expected):
    assert is_inference_profile(model_id) is expected


# --- 5. EKS version (Stubber: moto lacks DescribeClusterVersions) ----------------------------


def test_eks_version_in_standard_support_passes(stubs):
    """EKS stubbed with Stubber: moto has no DescribeClusterVersions."""
    clients = aws("us-east-1")
    stubs(clients, "eks").add_response("describe_cluster_versions", EKS_CATALOG, {"includeAll": True})
    [result] = check_eks_version(make_target(eks_version="1.35"), clients)
    assert result.passed, result.line()


@pytest.mark.parametrize("version, words", [("1.30", "EXTENDED_SUPPORT"), ("1.99", "not offered")])
def test_eks_version_outside_standard_support_fails_suggesting_the_newest(stubs, version, words):
    """EKS stubbed with Stubber."""
    clients = aws("us-east-1")
    stubs(clients, "eks").add_response("describe_cluster_versions", EKS_CATALOG, {"includeAll": True})
    [result] = check_eks_version(make_target(eks_version=version), clients)
    assert not result.passed and words in result.detail
    assert "1.35" in result.fix


def test_eks_standard_support_date_passed_fails(stubs):
    """EKS stubbed with Stubber: a stale STANDARD_SUPPORT status with an end date in the past."""
    clients = aws("us-east-1")
    stubs(clients, "eks").add_response("describe_cluster_versions", cluster_versions(
        ("1.34", "STANDARD_SUPPORT", NOW - timedelta(days=1)),
        ("1.35", "STANDARD_SUPPORT", NOW + timedelta(days=300)),
    ))
    [result] = check_eks_version(make_target(eks_version="1.34"), clients)
    assert not result.passed and "1.35" in result.fix


def test_eks_fallback_to_addon_versions(stubs, monkeypatch):
    """EKS stubbed with Stubber; DescribeClusterVersions hidden to exercise the old-boto3 path."""
    monkeypatch.setattr("tools.preflight.eks._has_operation", lambda client, op: False)
    addons = {"addons": [{"addonName": "vpc-cni", "addonVersions": [
        {"addonVersion": "v1.20.0", "compatibilities": [{"clusterVersion": "1.34"}, {"clusterVersion": "1.35"}]},
    ]}]}
    for version, passed in (("1.35", True), ("1.29", False)):
        clients = aws("us-east-1")
        stubs(clients, "eks").add_response("describe_addon_versions", addons, {"addonName": "vpc-cni"})
        [result] = check_eks_version(make_target(eks_version=version), clients)
        assert result.passed is passed, result.line()
    assert "1.35" in result.fix
