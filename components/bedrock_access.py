"""Bedrock access for pods: a Pod Identity role allowed to invoke exactly the configured models."""

from __future__ import annotations

import json
from typing import Optional, Sequence, TypedDict

import pulumi

from components import catalog
from components.pod_identity import PodIdentityRole, policy_document
from components.settings.infra import BedrockModel

INVOKE_ACTIONS = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]


class BedrockAccessArgs(TypedDict):
    """Inputs of `BedrockAccess`."""

    models: Sequence[BedrockModel]
    """Bedrock models / inference profiles the gateway may call."""
    region: str
    """The stack's region (source region of the inference profiles)."""
    account_id: pulumi.Input[str]
    """This account, owner of the inference profile ARNs."""
    cluster_name: pulumi.Input[str]
    """The EKS cluster."""
    namespace: str
    """Namespace of the service accounts."""
    service_accounts: Sequence[str]
    """Service accounts bound to the role (litellm, custom-server)."""
    tags: dict[str, str]
    """AWS tags."""


def bedrock_resource_arns(models: Sequence[BedrockModel], region: str, account_id: str) -> list[str]:
    """Each inference profile ARN in this account and region, plus its foundation model in every
    region the profile routes to (a global profile: this region's and the region-less global one);
    plain model ids get the foundation model ARN in this region."""
    partition = catalog.partition_for(region)
    arns: list[str] = []
    for model in models:
        if model.geo:
            arns.append(f"arn:{partition}:bedrock:{region}:{account_id}:inference-profile/{model.model_id}")
        if model.geo == catalog.GLOBAL_PROFILE_PREFIX:
            regions: Sequence[str] = (region, "")  # "": the global foundation model's region-less ARN
        else:
            regions = catalog.BEDROCK_GEO_ROUTES[model.geo] if model.geo else (region,)
        arns += [f"arn:{partition}:bedrock:{r}::foundation-model/{model.foundation_model_id}" for r in regions]
    return sorted(dict.fromkeys(arns))


def bedrock_invoke_policy(models: Sequence[BedrockModel], region: str, account_id: str) -> dict:
    """Invoke (and stream) only the configured models; no wildcard actions or resources."""
    return policy_document(
        [
            {
                "Sid": "InvokeConfiguredModels",
                "Effect": "Allow",
                "Action": list(INVOKE_ACTIONS),
                "Resource": bedrock_resource_arns(models, region, account_id),
            }
        ]
    )


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
