"""Preflight checks 4 and 5: Bedrock models and inference profiles, and the EKS version (both answered
by Stubber: moto lacks these operations)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from preflight_cases import aws_env, moto_aws, stubs  # noqa: F401 - fixtures (the first two autouse)
from preflight_cases import (
    EKS_CATALOG,
    MOTO_ACCOUNT,
    NOW,
    PROFILE,
    aws,
    cluster_versions,
    make_target,
)
from tools.preflight.bedrock import check_bedrock_models, is_inference_profile
from tools.preflight.eks import check_eks_version


# --- 4. Bedrock (Stubber: moto lacks these Bedrock operations) -------------------------------


HAIKU = PROFILE.split(".", 1)[1]
US_ROUTES = ("us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1")


def profile_answer(profile_id: str, regions, model: str = HAIKU, status: str = "ACTIVE") -> dict:
    """A GetInferenceProfile answer: one model ARN per destination region ("" = the global ARN)."""
    return {
        "inferenceProfileName": f"{profile_id.split('.')[0].upper()} {model}",
        "inferenceProfileArn": f"arn:aws:bedrock:us-east-1:{MOTO_ACCOUNT}:inference-profile/{profile_id}",
        "models": [{"modelArn": f"arn:aws:bedrock:{r}::foundation-model/{model}"} for r in regions],
        "inferenceProfileId": profile_id, "status": status, "type": "SYSTEM_DEFINED",
    }


def offered(*profile_ids: str) -> dict:
    """A ListInferenceProfiles page."""
    return {"inferenceProfileSummaries": [profile_answer(i, ["us-east-1"], i.split(".", 1)[1]) for i in profile_ids]}


def test_bedrock_profile_and_foundation_model_pass(stubs):
    """Bedrock stubbed with Stubber: moto has no GetInferenceProfile / GetFoundationModel. The profile's
    routes come from Bedrock (GetInferenceProfile's model ARNs), not from a table."""
    clients = aws("us-west-1")
    bedrock = stubs(clients, "bedrock")
    bedrock.add_response("get_inference_profile", profile_answer(PROFILE, US_ROUTES), {"inferenceProfileIdentifier": PROFILE})
    bedrock.add_response("get_foundation_model", {"modelDetails": {
        "modelArn": "arn:aws:bedrock:us-west-1::foundation-model/amazon.nova-lite-v1:0",
        "modelId": "amazon.nova-lite-v1:0", "modelLifecycle": {"status": "ACTIVE"},
        "inferenceTypesSupported": ["ON_DEMAND", "INFERENCE_PROFILE"],
    }}, {"modelIdentifier": "amazon.nova-lite-v1:0"})
    results = check_bedrock_models(
        make_target(region="us-west-1", bedrock_model_ids=[PROFILE, "amazon.nova-lite-v1:0"]), clients)
    assert [r.passed for r in results] == [True, True], [r.line() for r in results]
    assert results[0].detail.endswith("routes to ca-central-1, us-east-1, us-east-2, us-west-1, us-west-2")


def test_bedrock_global_profile_reports_the_global_route(stubs):
    clients = aws("sa-east-1")
    profile = f"global.{HAIKU}"
    stubs(clients, "bedrock").add_response("get_inference_profile", profile_answer(profile, ["sa-east-1", ""]),
                                           {"inferenceProfileIdentifier": profile})
    [result] = check_bedrock_models(make_target(region="sa-east-1", bedrock_model_ids=[profile]), clients)
    assert result.passed and result.detail.endswith("routes to global, sa-east-1")


def test_bedrock_unknown_profile_names_the_profiles_the_region_offers(stubs):
    """Bedrock stubbed with Stubber: an eu. profile from us-west-1 is not found; the fix names the
    profiles of the same model that ListInferenceProfiles returns there."""
    clients = aws("us-west-1")
    bad = f"eu.{HAIKU}"
    bedrock = stubs(clients, "bedrock")
    bedrock.add_client_error("get_inference_profile", "ResourceNotFoundException", "not found", 404,
                             expected_params={"inferenceProfileIdentifier": bad})
    bedrock.add_response("list_inference_profiles",
                         offered(PROFILE, f"global.{HAIKU}", "us.anthropic.claude-sonnet-4-5-20250929-v1:0"),
                         {"typeEquals": "SYSTEM_DEFINED"})
    [result] = check_bedrock_models(make_target(region="us-west-1", bedrock_model_ids=[bad]), clients)
    assert not result.passed and bad in result.name and "not found in us-west-1" in result.detail
    assert result.fix == f"use global.{HAIKU} or {PROFILE} (the {HAIKU} profiles offered in us-west-1)"


def test_bedrock_model_served_only_through_profiles_fails_naming_them(stubs):
    """GetFoundationModel says INFERENCE_PROFILE only: a direct call would be refused with "Invocation
    of model ID ... with on-demand throughput isn't supported"; the fix names the profiles."""
    clients = aws("us-east-1")
    bedrock = stubs(clients, "bedrock")
    model = "amazon.nova-lite-v1:0"
    bedrock.add_response("get_foundation_model", {"modelDetails": {
        "modelArn": f"arn:aws:bedrock:us-east-1::foundation-model/{model}", "modelId": model,
        "modelLifecycle": {"status": "ACTIVE"}, "inferenceTypesSupported": ["INFERENCE_PROFILE"],
    }}, {"modelIdentifier": model})
    bedrock.add_response("list_inference_profiles", offered(f"us.{model}"), {"typeEquals": "SYSTEM_DEFINED"})
    [result] = check_bedrock_models(make_target(bedrock_model_ids=[model]), clients)
    assert not result.passed and "not served on demand" in result.detail
    assert f"use us.{model}" in result.fix


def test_bedrock_legacy_model_fails(stubs):
    """Bedrock stubbed with Stubber."""
    clients = aws("us-east-1")
    stubs(clients, "bedrock").add_response("get_foundation_model", {"modelDetails": {
        "modelArn": "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-v2",  # LEGACY before on-demand
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
