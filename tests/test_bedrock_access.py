"""Bedrock access: exactly the configured models, Pod Identity trust, the right service accounts."""

from __future__ import annotations

import json

from tools.offline.mocks import ACCOUNT_ID

POLICY = "aws:iam/rolePolicy:RolePolicy"


def _bedrock_policy(run):
    return json.loads(run.one(POLICY, "bedrock").inputs["policy"])


def test_policy_lists_profiles_and_destination_region_models(stack_run):
    doc = _bedrock_policy(stack_run)
    (statement,) = doc["Statement"]
    assert statement["Action"] == ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
    expected = set()
    for model in ("anthropic.claude-haiku-4-5-20251001-v1:0", "anthropic.claude-sonnet-4-5-20250929-v1:0"):
        expected.add(f"arn:aws:bedrock:us-east-1:{ACCOUNT_ID}:inference-profile/us.{model}")
        for region in ("us-east-1", "us-east-2", "us-west-2"):
            expected.add(f"arn:aws:bedrock:{region}::foundation-model/{model}")
    assert set(statement["Resource"]) == expected
    assert "*" not in json.dumps(doc)


def test_other_geography_and_plain_model_ids(run_with):
    run = run_with("dev", {
        "aws:region": "eu-west-1",
        "genai-platform:bedrockModels": [
            {"name": "haiku", "modelId": "eu.anthropic.claude-haiku-4-5-20251001-v1:0"},
            {"name": "titan", "modelId": "amazon.titan-text-express-v1"},
        ],
    })
    resources = set(_bedrock_policy(run)["Statement"][0]["Resource"])
    assert f"arn:aws:bedrock:eu-west-1:{ACCOUNT_ID}:inference-profile/eu.anthropic.claude-haiku-4-5-20251001-v1:0" in resources
    for region in ("eu-central-1", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-3"):
        assert f"arn:aws:bedrock:{region}::foundation-model/anthropic.claude-haiku-4-5-20251001-v1:0" in resources
    assert "arn:aws:bedrock:eu-west-1::foundation-model/amazon.titan-text-express-v1" in resources
    assert len(resources) == 8


def test_trust_policy_only_eks_pods(stack_run):
    role = stack_run.one("aws:iam/role:Role", "bedrock")
    (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert sorted(statement["Action"]) == ["sts:AssumeRole", "sts:TagSession"]


def test_associations_bind_gateway_and_agent_server(stack_run):
    role = stack_run.one("aws:iam/role:Role", "bedrock")
    associations = [a.inputs for a in stack_run.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
                    if a.inputs["roleArn"] == role.outputs["arn"]]
    assert sorted((a["namespace"], a["serviceAccount"]) for a in associations) == [
        ("genai", "custom-server"), ("genai", "litellm"),
    ]
    assert {a["clusterName"] for a in associations} == {stack_run.outputs["clusterName"]}


def test_default_models_follow_the_regions_geography(run_with):
    run = run_with("dev", {"aws:region": "eu-central-1"})
    resources = _bedrock_policy(run)["Statement"][0]["Resource"]
    profiles = [r for r in resources if ":inference-profile/" in r]
    assert profiles == sorted(
        f"arn:aws:bedrock:eu-central-1:{ACCOUNT_ID}:inference-profile/eu.anthropic.{m}"
        for m in ("claude-haiku-4-5-20251001-v1:0", "claude-sonnet-4-5-20250929-v1:0")
    )


def test_global_profile_grants_the_source_region_and_the_global_model(run_with):
    """A `global.` profile routes worldwide: IAM names the profile, the model in the source region
    and the region-less global model ARN (AWS's documented form), nothing region-wildcarded."""
    model = "anthropic.claude-sonnet-4-5-20250929-v1:0"
    run = run_with("dev", {
        "aws:region": "sa-east-1",
        "genai-platform:bedrockModels": [{"name": "sonnet", "modelId": f"global.{model}"}],
    })
    assert set(_bedrock_policy(run)["Statement"][0]["Resource"]) == {
        f"arn:aws:bedrock:sa-east-1:{ACCOUNT_ID}:inference-profile/global.{model}",
        f"arn:aws:bedrock:sa-east-1::foundation-model/{model}",
        f"arn:aws:bedrock:::foundation-model/{model}",
    }
