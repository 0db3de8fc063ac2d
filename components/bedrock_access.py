"""Bedrock access for pods: a Pod Identity role allowed to invoke exactly the configured models."""

from __future__ import annotations

import json
from typing import Optional, Sequence, TypedDict

import pulumi

from components import catalog
from components.pod_identity import PodIdentityRole, policy_document
from components.settings.infra import BedrockModel

# Converse and ConverseStream are authorised by these two actions (Bedrock API reference: Converse
# "requires permission for the bedrock:InvokeModel action"; InvokeModelWithResponseStream: denying
# both actions "also denies access to the resource through the Converse API actions (Converse and
# ConverseStream)"); the Service Authorization Reference has no bedrock:Converse action.
INVOKE_ACTIONS = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]


def profile_arn(partition: str, region: str, account_id: str, profile_id: str) -> str:
    """A system-defined inference profile, as called from `region`."""
    return f"arn:{partition}:bedrock:{region}:{account_id}:inference-profile/{profile_id}"


def foundation_model_arn(partition: str, region: str, model_id: str) -> str:
    """A foundation model in `region` (`*`: any region, the empty global region included)."""
    return f"arn:{partition}:bedrock:{region}::foundation-model/{model_id}"


def bedrock_invoke_statements(models: Sequence[BedrockModel], region: str, account_id: str) -> list[dict]:
    """AWS's documented shape for inference profiles (Bedrock user guide, "Prerequisites for
    inference profiles"): the profile in the stack's region, plus the foundation model in every
    region it may route to, allowed only through that profile (`bedrock:InferenceProfileArn`).

    Routes are per model and per source region and grow over time, so the foundation model's region
    is `*` rather than a list that goes stale (a request routed to a missing region is denied).
    `*` matches any characters of the segment, none included (IAM user guide, "IAM JSON policy
    elements: Resource"), so it also covers a global profile's region-less model ARN
    (`arn:aws:bedrock:::foundation-model/<id>`, Bedrock user guide, "Global cross-Region
    inference"). A bare model id is invoked in the stack's region only.
    """
    partition = catalog.partition_for(region)
    profiles = sorted({m.model_id: m for m in models if m.is_profile}.values(), key=lambda m: m.model_id)
    direct = sorted({m.model_id for m in models if not m.is_profile})
    statements: list[dict] = []
    if profiles:
        statements.append({
            "Sid": "InvokeInferenceProfiles",
            "Effect": "Allow",
            "Action": list(INVOKE_ACTIONS),
            "Resource": [profile_arn(partition, region, account_id, m.model_id) for m in profiles],
        })
    for i, model in enumerate(profiles):
        statements.append({
            "Sid": f"InvokeModelOnlyThroughProfile{i}",
            "Effect": "Allow",
            "Action": list(INVOKE_ACTIONS),
            "Resource": foundation_model_arn(partition, "*", model.foundation_model_id),
            # ARN-typed key, so an Arn operator (the key is absent on a direct call: that is denied)
            "Condition": {"ArnEquals": {"bedrock:InferenceProfileArn": profile_arn(partition, region, account_id, model.model_id)}},
        })
    if direct:
        statements.append({
            "Sid": "InvokeFoundationModelsInRegion",
            "Effect": "Allow",
            "Action": list(INVOKE_ACTIONS),
            "Resource": [foundation_model_arn(partition, region, model_id) for model_id in direct],
        })
    return statements


def bedrock_invoke_policy(models: Sequence[BedrockModel], region: str, account_id: str) -> dict:
    """Invoke (and stream) only the configured models; no wildcard actions, no wildcard models."""
    return policy_document(bedrock_invoke_statements(models, region, account_id))


class BedrockAccess(pulumi.ComponentResource):
    """IAM role trusted only by EKS Pod Identity, bound to the gateway's and agent server's
    service accounts, allowed to invoke exactly the configured Bedrock models."""

    role_arn: pulumi.Output[str]
    """The Pod Identity role ARN."""
    associations: dict[str, pulumi.Resource]
    """Service account -> its Pod Identity association (its pods must start after it)."""

    def __init__(self, name: str, args: BedrockAccessArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("genai:bedrock:BedrockAccess", name, {}, opts)
        models, region = list(args["models"]), args["region"]
        policy = pulumi.Output.from_input(args["account_id"]).apply(
            lambda account: json.dumps(bedrock_invoke_policy(models, region, account))
        )
        role = PodIdentityRole(
            name,
            parent=self,
            cluster_name=args["cluster_name"],
            account_id=args["account_id"],
            policy=policy if models else None,
            service_accounts=[(args["namespace"], sa) for sa in args["service_accounts"]],
            tags=args["tags"],
        )
        self.role_arn = role.arn
        self.associations = dict(zip(args["service_accounts"], role.associations))
        self.register_outputs({"role_arn": self.role_arn})
