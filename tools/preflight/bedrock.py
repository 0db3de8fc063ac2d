"""Preflight check of the Bedrock models: each configured id is an ACTIVE inference profile or
foundation model in the stack's region."""

from __future__ import annotations

from botocore.exceptions import ClientError

from components.catalog import BEDROCK_GEO_ROUTES

from .context import Clients, PreflightTarget, error_code, guard
from .report import CheckResult

# Cross-region inference profile id prefixes: the geographies in the catalog plus `global.`,
# which routes worldwide and so has no region list there.
INFERENCE_PROFILE_PREFIXES = frozenset(BEDROCK_GEO_ROUTES) | {"global"}
_NOT_FOUND_CODES = frozenset({"ResourceNotFoundException", "ValidationException"})


def is_inference_profile(model_id: str) -> bool:
    """`us.anthropic.claude-...` or a profile ARN -> True; `anthropic.claude-...` -> False."""
    if model_id.startswith("arn:"):
        return ":inference-profile/" in model_id or ":application-inference-profile/" in model_id
    prefix, dot, _ = model_id.partition(".")
    return bool(dot) and prefix in INFERENCE_PROFILE_PREFIXES


def _geo_hint(model_id: str, region: str) -> str:
    """Suggest the right geo prefix when the id's prefix does not serve the region."""
    prefix, _, rest = model_id.partition(".")
    if prefix in BEDROCK_GEO_ROUTES and region not in BEDROCK_GEO_ROUTES[prefix]:
        geos = [g for g, regions in BEDROCK_GEO_ROUTES.items() if region in regions]
        if geos:
            return f"; '{prefix}.' profiles are not served from {region}, try {geos[0]}.{rest}"
    return ""


def _check_bedrock_model(model_id: str, target: PreflightTarget, clients: Clients) -> CheckResult:
    bedrock = clients("bedrock")
    name = f"bedrock {model_id}"
    region = target.region
    if is_inference_profile(model_id):
        try:
            profile = bedrock.get_inference_profile(inferenceProfileIdentifier=model_id)
        except ClientError as exc:
            if error_code(exc) not in _NOT_FOUND_CODES:
                raise
            return CheckResult(
                name, False, f"inference profile {model_id} not found in {region}",
                f"use a profile id from `aws bedrock list-inference-profiles --region {region}`"
                + _geo_hint(model_id, region),
            )
        status = profile.get("status", "UNKNOWN")
        if status != "ACTIVE":
            return CheckResult(name, False, f"inference profile {model_id} is {status} in {region}",
                               "choose an ACTIVE inference profile")
        label = profile.get("inferenceProfileName", model_id)
        return CheckResult(name, True, f"inference profile ACTIVE in {region} ({label})")
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
    return CheckResult(name, True, f"foundation model ACTIVE in {region}")


def check_bedrock_models(target: PreflightTarget, clients: Clients) -> list[CheckResult]:
    """Each configured model id is an ACTIVE inference profile / foundation model in the region."""
    if not target.bedrock_model_ids:
        return [CheckResult("bedrock", True, "no Bedrock models configured")]
    results: list[CheckResult] = []
    for model_id in target.bedrock_model_ids:
        results += guard(f"bedrock {model_id}", "bedrock",
                         lambda m=model_id: _check_bedrock_model(m, target, clients))
    return results
