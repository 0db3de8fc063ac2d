"""Preflight check of the Bedrock models: each configured id is an ACTIVE inference profile in the
stack's region (GetInferenceProfile, which also lists the regions it routes to from here), or an
ACTIVE foundation model that the region serves on demand (GetFoundationModel).

Routes are per model and per source region (Bedrock user guide, "Supported Regions and models for
inference profiles": GetInferenceProfile from the source region; its `models` field lists a model ARN
per destination region), so they are read from Bedrock here rather than kept in a table.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from components.catalog import INFERENCE_PROFILE_PREFIXES

from .context import Clients, PreflightTarget, error_code, guard
from .report import AWS_ERRORS, CheckResult

_NOT_FOUND_CODES = frozenset({"ResourceNotFoundException", "ValidationException"})


def is_inference_profile(model_id: str) -> bool:
    """`us.anthropic.claude-...` or a profile ARN -> True; `anthropic.claude-...` -> False."""
    if model_id.startswith("arn:"):
        return ":inference-profile/" in model_id or ":application-inference-profile/" in model_id
    prefix, dot, _ = model_id.partition(".")
    return bool(dot) and prefix in INFERENCE_PROFILE_PREFIXES


def _foundation_model(model_id: str) -> str:
    """`us.anthropic.claude-x` -> `anthropic.claude-x` (bare ids unchanged)."""
    return model_id.split(".", 1)[1] if is_inference_profile(model_id) and not model_id.startswith("arn:") else model_id


def _routes(profile: dict) -> list[str]:
    """The destination regions in a GetInferenceProfile answer (`global` for the region-less ARN)."""
    regions = {arn.split(":")[3] or "global" for arn in (m.get("modelArn", "") for m in profile.get("models", [])) if arn.count(":") >= 5}
    return sorted(regions)


def _offered_profiles(bedrock, model: str) -> list[str]:
    """System-defined profile ids of `model` that this region offers (empty if they cannot be listed)."""
    try:
        pages = bedrock.get_paginator("list_inference_profiles").paginate(typeEquals="SYSTEM_DEFINED")
        ids = [s["inferenceProfileId"] for page in pages for s in page.get("inferenceProfileSummaries", [])]
    except AWS_ERRORS:
        return []
    return sorted(i for i in ids if i.split(".", 1)[-1] == model)


def _use_instead(bedrock, model: str, region: str) -> str:
    offered = _offered_profiles(bedrock, model)
    if offered:
        return f"use {' or '.join(offered)} (the {model} profiles offered in {region})"
    return (f"use a profile id from `aws bedrock list-inference-profiles --region {region}`; "
            f"none for {model} could be listed here")


def _check_profile(model_id: str, region: str, bedrock) -> CheckResult:
    name = f"bedrock {model_id}"
    try:
        profile = bedrock.get_inference_profile(inferenceProfileIdentifier=model_id)
    except ClientError as exc:
        if error_code(exc) not in _NOT_FOUND_CODES:
            raise
        return CheckResult(name, False, f"inference profile {model_id} not found in {region}",
                           _use_instead(bedrock, _foundation_model(model_id), region))
    status = profile.get("status", "UNKNOWN")
    if status != "ACTIVE":
        return CheckResult(name, False, f"inference profile {model_id} is {status} in {region}",
                           "choose an ACTIVE inference profile")
    routes = _routes(profile)  # the API returns at least one model
    label = profile.get("inferenceProfileName", model_id)
    return CheckResult(name, True, f"inference profile ACTIVE in {region} ({label}), routes to {', '.join(routes)}")


def _check_foundation_model(model_id: str, region: str, bedrock) -> CheckResult:
    name = f"bedrock {model_id}"
    try:
        details = bedrock.get_foundation_model(modelIdentifier=model_id)["modelDetails"]
    except ClientError as exc:
        if error_code(exc) not in _NOT_FOUND_CODES:
            raise
        return CheckResult(
            name, False, f"foundation model {model_id} not found in {region}",
            f"use a model id from `aws bedrock list-foundation-models --region {region}`, "
            "or its cross-region inference profile (e.g. us.<model id>)",
        )
    status = details.get("modelLifecycle", {}).get("status", "UNKNOWN")
    if status != "ACTIVE":
        return CheckResult(name, False, f"foundation model {model_id} is {status} in {region}",
                           "switch to an ACTIVE model (LEGACY models are being retired)")
    kinds = details.get("inferenceTypesSupported") or []
    if "ON_DEMAND" not in kinds:
        # Invoking it would fail: "Invocation of model ID ... with on-demand throughput isn't supported"
        return CheckResult(name, False, f"foundation model {model_id} is not served on demand in {region} "
                                        f"(inference types: {', '.join(kinds) or 'none'})",
                           _use_instead(bedrock, model_id, region))
    return CheckResult(name, True, f"foundation model ACTIVE and on demand in {region}")


def check_bedrock_models(target: PreflightTarget, clients: Clients) -> list[CheckResult]:
    """Each configured model id is an ACTIVE inference profile / on-demand foundation model in the region."""
    if not target.bedrock_model_ids:
        return [CheckResult("bedrock", True, "no Bedrock models configured")]
    results: list[CheckResult] = []
    for model_id in target.bedrock_model_ids:
        check = _check_profile if is_inference_profile(model_id) else _check_foundation_model
        results += guard(f"bedrock {model_id}", "bedrock",
                         lambda m=model_id, c=check: c(m, target.region, clients("bedrock")))
    return results
