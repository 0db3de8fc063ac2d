"""Bedrock access: AWS's documented inference-profile shape for exactly the configured models, Pod
Identity trust, the right service accounts. The rendered policy is replayed with the requests Bedrock
authorises on a cross-region call (tools/iam_validation/simulate.py): the profile in the stack's
region, then the foundation model in whichever region the profile routes to."""

from __future__ import annotations

import json

import pytest

from tools.iam_validation.simulate import allows
from tools.offline.mocks import ACCOUNT_ID

POLICY = "aws:iam/rolePolicy:RolePolicy"
INVOKE = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
HAIKU = "anthropic.claude-haiku-4-5-20251001-v1:0"
SONNET = "anthropic.claude-sonnet-4-5-20250929-v1:0"


def _bedrock_policy(run):
    return json.loads(run.one(POLICY, "bedrock").inputs["policy"])


def profile_arn(region: str, profile_id: str, partition: str = "aws") -> str:
    return f"arn:{partition}:bedrock:{region}:{ACCOUNT_ID}:inference-profile/{profile_id}"


def model_arn(region: str, model: str, partition: str = "aws") -> str:
    return f"arn:{partition}:bedrock:{region}::foundation-model/{model}"


def through(profile: str) -> dict[str, str]:
    """The request context of a call Bedrock makes through `profile`."""
    return {"bedrock:InferenceProfileArn": profile}


def test_rendered_policy_has_exactly_the_documented_shape(stack_run):
    """The profile ARN in the stack's region; the foundation model in any region (`*`) only with an
    ArnEquals bedrock:InferenceProfileArn condition naming that profile; nothing else."""
    profiles = [profile_arn("us-east-1", f"us.{m}") for m in (HAIKU, SONNET)]
    assert _bedrock_policy(stack_run)["Statement"] == [
        {"Sid": "InvokeInferenceProfiles", "Effect": "Allow", "Action": INVOKE, "Resource": profiles},
        *[
            {"Sid": f"InvokeModelOnlyThroughProfile{i}", "Effect": "Allow", "Action": INVOKE,
             "Resource": model_arn("*", model), "Condition": {"ArnEquals": {"bedrock:InferenceProfileArn": profile}}}
            for i, (model, profile) in enumerate(zip((HAIKU, SONNET), profiles))
        ],
    ]


@pytest.mark.parametrize("region", ["us-east-1", "us-west-1", "ca-central-1"])
def test_us_profiles_reach_every_destination_only_through_the_profile(run_with, region):
    """us-west-1 and ca-central-1 are sources and destinations of the us. Claude 4.5 profiles: a stack
    there deploys with the default us. profiles, and a request routed to any region (one opened
    later too) is allowed through the profile, while a direct call to the model is denied."""
    doc = _bedrock_policy(run_with("dev", {"aws:region": region}))
    profile = profile_arn(region, f"us.{HAIKU}")
    assert allows(doc, "bedrock:InvokeModel", profile)
    assert allows(doc, "bedrock:InvokeModelWithResponseStream", profile)
    for destination in ("us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "us-west-9"):
        assert allows(doc, "bedrock:InvokeModel", model_arn(destination, HAIKU), through(profile)), destination
        assert not allows(doc, "bedrock:InvokeModel", model_arn(destination, HAIKU)), destination
    other = "anthropic.claude-opus-4-1-20250805-v1:0"
    assert not allows(doc, "bedrock:InvokeModel", profile_arn(region, f"us.{other}"))
    assert not allows(doc, "bedrock:InvokeModel", model_arn("us-east-1", other), through(profile_arn(region, f"us.{other}")))
    assert not allows(doc, "bedrock:InvokeModel", model_arn("us-east-1", SONNET), through(profile))
    assert not allows(doc, "bedrock:InvokeAgent", profile)


def test_explicit_us_profile_in_us_west_1_is_accepted(run_with):
    run = run_with("dev", {"aws:region": "us-west-1",
                           "genai-platform:bedrockModels": [{"name": "sonnet", "modelId": f"us.{SONNET}"}]})
    assert _bedrock_policy(run)["Statement"][0]["Resource"] == [profile_arn("us-west-1", f"us.{SONNET}")]


def test_other_geography_and_plain_model_ids(run_with):
    """A profile and a bare model id: the bare model is allowed in the stack's region only."""
    run = run_with("dev", {
        "aws:region": "eu-west-1",
        "genai-platform:bedrockModels": [
            {"name": "haiku", "modelId": f"eu.{HAIKU}"},
            {"name": "titan", "modelId": "amazon.titan-text-express-v1"},
        ],
    })
    doc = _bedrock_policy(run)
    profile = profile_arn("eu-west-1", f"eu.{HAIKU}")
    assert [s["Sid"] for s in doc["Statement"]] == [
        "InvokeInferenceProfiles", "InvokeModelOnlyThroughProfile0", "InvokeFoundationModelsInRegion"]
    assert doc["Statement"][2]["Resource"] == [model_arn("eu-west-1", "amazon.titan-text-express-v1")]
    assert allows(doc, "bedrock:InvokeModel", model_arn("eu-north-1", HAIKU), through(profile))
    assert allows(doc, "bedrock:InvokeModel", model_arn("eu-west-1", "amazon.titan-text-express-v1"))
    assert not allows(doc, "bedrock:InvokeModel", model_arn("eu-central-1", "amazon.titan-text-express-v1"))


@pytest.mark.parametrize("region, geo, partition", [
    ("eu-central-1", "eu", "aws"), ("ca-central-1", "us", "aws"), ("us-gov-west-1", "us-gov", "aws-us-gov"),
])
def test_default_models_follow_the_regions_geography(run_with, region, geo, partition):
    admin = {"adminPrincipals": [f"arn:{partition}:iam::123456789012:role/platform-admin"]}
    # The load balancer controller publishes no GovCloud policy: no front door there (components/front_door/files)
    no_front_door = {"genai-platform:frontDoor": {"enabled": False}} if partition == "aws-us-gov" else {}
    doc = _bedrock_policy(run_with("dev", {"aws:region": region, "genai-platform:cluster": admin, **no_front_door}))
    assert doc["Statement"][0]["Resource"] == [profile_arn(region, f"{geo}.{m}", partition) for m in (HAIKU, SONNET)]
    assert {s["Resource"] for s in doc["Statement"][1:]} == {model_arn("*", m, partition) for m in (HAIKU, SONNET)}


def test_global_profile_reaches_the_region_less_global_model_only_through_it(run_with):
    """A `global.` profile routes worldwide; AWS documents the source-region model and the region-less
    global model ARN (`arn:aws:bedrock:::foundation-model/<id>`): both match `*`, only through the
    profile (Bedrock user guide, "Global cross-Region inference")."""
    run = run_with("dev", {
        "aws:region": "sa-east-1",
        "genai-platform:bedrockModels": [{"name": "sonnet", "modelId": f"global.{SONNET}"}],
    })
    doc = _bedrock_policy(run)
    profile = profile_arn("sa-east-1", f"global.{SONNET}")
    assert allows(doc, "bedrock:InvokeModel", profile)
    for destination in ("sa-east-1", "", "ap-southeast-7"):
        assert allows(doc, "bedrock:InvokeModel", model_arn(destination, SONNET), through(profile)), destination
        assert not allows(doc, "bedrock:InvokeModel", model_arn(destination, SONNET)), destination


def test_trust_policy_only_eks_pods(stack_run):
    role = stack_run.one("aws:iam/role:Role", "bedrock")
    (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert sorted(statement["Action"]) == ["sts:AssumeRole", "sts:TagSession"]


def test_associations_bind_only_the_gateway(stack_run):
    """The agent server calls models only through LiteLLM: no Bedrock role for custom-server."""
    role = stack_run.one("aws:iam/role:Role", "bedrock")
    associations = [a.inputs for a in stack_run.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
                    if a.inputs["roleArn"] == role.outputs["arn"]]
    assert sorted((a["namespace"], a["serviceAccount"]) for a in associations) == [
        ("genai", "litellm"),
    ]
    assert not [a for a in stack_run.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
                if a.inputs["serviceAccount"] == "custom-server"]
    assert {a["clusterName"] for a in associations} == {stack_run.outputs["clusterName"]}
