"""Read-only AWS checks run before the first `pulumi up`.

Each check takes a `PreflightTarget` (plain values derived from the stack settings) and a
`Clients` (boto3 clients for the stack's region, injectable for tests) and returns a list of
`CheckResult`s. Only Describe*/Get*/List* operations are called: nothing in the account changes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from botocore.exceptions import ClientError

from components.catalog import BEDROCK_GEO_ROUTES, NEURON_INSTANCES

from .report import AWS_ERRORS, CheckResult, result_from_aws_error

# ---------------------------------------------------------------------------------------------
# Inputs


@dataclass(frozen=True)
class PreflightTarget:
    """What the stack will deploy, as far as the preflight checks care."""

    region: str
    availability_zones: list[str] | None
    az_count: int
    neuron_instance_types: list[str]
    neuron_max_size: int
    neuron_capacity_type: str  # "ON_DEMAND" | "SPOT"
    bedrock_model_ids: list[str]
    eks_version: str
    expected_account_id: str | None


def _plain(value: Any) -> Any:
    """Enum members -> their value; everything else unchanged."""
    return getattr(value, "value", value)


def target_from_settings(settings: Any) -> PreflightTarget:
    """Build the target from the stack's `Settings` object (or anything of the same shape)."""
    network, neuron = settings.network, settings.neuron
    azs = getattr(network, "availability_zones", None)
    account = getattr(settings, "account_id", None)
    return PreflightTarget(
        region=str(settings.region),
        availability_zones=[str(z) for z in azs] if azs else None,
        az_count=int(network.az_count),
        neuron_instance_types=[str(_plain(t)) for t in neuron.instance_types],
        neuron_max_size=int(neuron.max_size),
        neuron_capacity_type=str(_plain(neuron.capacity_type)).upper().replace("-", "_"),
        bedrock_model_ids=[str(m.model_id) for m in settings.bedrock_models],
        eks_version=str(settings.cluster.version),
        expected_account_id=str(account) if account else None,
    )


class Clients:
    """Lazily created, cached boto3 clients for one region.

    `factory(service, region)` builds a client; pass one to wrap clients (record calls,
    attach a botocore Stubber) or to use a specific boto3 session.
    """

    def __init__(self, region: str, factory: Callable[[str, str], Any] | None = None) -> None:
        self.region = region
        self._factory = factory or _default_factory()
        self._cache: dict[str, Any] = {}

    def __call__(self, service: str) -> Any:
        if service not in self._cache:
            self._cache[service] = self._factory(service, self.region)
        return self._cache[service]


def _default_factory() -> Callable[[str, str], Any]:
    import boto3
    from botocore.config import Config

    session = boto3.session.Session()
    config = Config(connect_timeout=5, read_timeout=20, retries={"mode": "standard", "max_attempts": 3})
    return lambda service, region: session.client(service, region_name=region, config=config)


def _guard(name: str, service: str, fn: Callable[[], list[CheckResult] | CheckResult]) -> list[CheckResult]:
    """Run `fn`; botocore errors become one FAIL named `name` instead of a traceback."""
    try:
        out = fn()
    except AWS_ERRORS as exc:
        return [result_from_aws_error(name, service, exc)]
    return out if isinstance(out, list) else [out]


def _error_code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


# ---------------------------------------------------------------------------------------------
# 1. Credentials and account


def _identity_result(target: PreflightTarget, clients: Clients) -> CheckResult:
    ident = clients("sts").get_caller_identity()
    account, arn = ident["Account"], ident["Arn"]
    detail = f"account {account} as {arn}"
    if target.expected_account_id and account != target.expected_account_id:
        return CheckResult(
            "credentials", False,
            f"{detail}, but the stack expects account {target.expected_account_id}",
            f"switch to credentials for account {target.expected_account_id} (e.g. another AWS_PROFILE), "
            "or correct accountId in the stack settings",
        )
    return CheckResult("credentials", True, detail)


def check_identity(target: PreflightTarget, clients: Clients) -> list[CheckResult]:
    """STS GetCallerIdentity works; the account matches `expected_account_id` when pinned."""
    return _guard("credentials", "sts", lambda: _identity_result(target, clients))


# ---------------------------------------------------------------------------------------------
# 2. Neuron capacity per availability zone


def _stack_azs(target: PreflightTarget, ec2: Any) -> tuple[list[str], list[str]]:
    """(AZs the stack will use, all AZs of the region), both sorted by name.

    Mirrors the stack: explicit `availability_zones` if given, else the first `az_count`
    available standard AZs (no Local/Wavelength zones) of the region.
    """
    zones = ec2.describe_availability_zones(
        Filters=[{"Name": "zone-type", "Values": ["availability-zone"]},
                 {"Name": "state", "Values": ["available"]}],
    )["AvailabilityZones"]
    region_azs = sorted(z["ZoneName"] for z in zones)
    chosen = list(target.availability_zones) if target.availability_zones else region_azs[: target.az_count]
    return chosen, region_azs


def check_neuron_capacity(target: PreflightTarget, clients: Clients) -> list[CheckResult]:
    """Every Neuron instance type is offered in at least two of the stack's AZs."""
    if not target.neuron_instance_types:
        return [CheckResult("neuron-capacity", True, "no Neuron instance types configured")]

    def run() -> list[CheckResult]:
        ec2 = clients("ec2")
        chosen, region_azs = _stack_azs(target, ec2)
        unknown = [z for z in chosen if z not in region_azs]
        if unknown:
            return [CheckResult(
                "neuron-capacity", False,
                f"availability zone(s) {', '.join(unknown)} not available in {target.region}",
                f"use AZs of {target.region}: {', '.join(region_azs)}",
            )]
        offered: dict[str, set[str]] = {t: set() for t in target.neuron_instance_types}
        pages = ec2.get_paginator("describe_instance_type_offerings").paginate(
            LocationType="availability-zone",
            Filters=[{"Name": "instance-type", "Values": list(target.neuron_instance_types)}],
        )
        for page in pages:
            for offer in page["InstanceTypeOfferings"]:
                offered.setdefault(offer["InstanceType"], set()).add(offer["Location"])

        needed = min(2, len(chosen))
        results = []
        for itype in target.neuron_instance_types:
            in_region = sorted(offered[itype])
            in_stack = [z for z in chosen if z in offered[itype]]
            name = f"neuron-capacity {itype}"
            if len(in_stack) >= needed:
                results.append(CheckResult(
                    name, True, f"offered in {', '.join(in_stack)} (stack AZs: {', '.join(chosen)})"))
                continue
            detail = (f"{itype} is offered in {len(in_stack)} of the stack's AZs "
                      f"({', '.join(in_stack) or 'none'} of {', '.join(chosen)}); at least {needed} needed")
            if len(in_region) >= len(chosen):
                fix = (f"set network.availabilityZones to {len(chosen)} of the AZs that offer {itype}: "
                       f"{', '.join(in_region)}")
            elif len(in_region) >= 2:
                fix = (f"set network.azCount to {len(in_region)} and network.availabilityZones to the AZs "
                       f"that offer {itype}: {', '.join(in_region)}")
            elif in_region:
                fix = (f"{itype} is offered only in {in_region[0]} in {target.region}: "
                       "pick another instance type or region")
            else:
                fix = f"{itype} is not offered in {target.region}: pick another instance type or region"
            results.append(CheckResult(name, False, detail, fix))
        return results

    return _guard("neuron-capacity", "ec2", run)


# ---------------------------------------------------------------------------------------------
# 3. Service Quotas: vCPU quota of each Neuron family
#
# Codes confirmed by name (code search of public repositories while writing this check):
# several `aws service-quotas list-service-quotas --service-code ec2` output dumps and Service
# Quotas console links pair each code with its quota name:
#   L-1945791B "Running On-Demand Inf instances"   L-B5D1601B "All Inf Spot Instance Requests"
#   L-2C3B7624 "Running On-Demand Trn instances"   L-6B0D517C "All Trn Spot Instance Requests"
# (One third-party client lists L-5480EFD2 for Trn spot; every API dump seen says L-6B0D517C.)
# The check also compares the QuotaName AWS returns with the expected name and says so if
# they differ, so a wrong code shows up in the output rather than silently.
QUOTA_CODES: dict[tuple[str, str], tuple[str, str]] = {
    ("inf", "ON_DEMAND"): ("L-1945791B", "Running On-Demand Inf instances"),
    ("trn", "ON_DEMAND"): ("L-2C3B7624", "Running On-Demand Trn instances"),
    ("inf", "SPOT"): ("L-B5D1601B", "All Inf Spot Instance Requests"),
    ("trn", "SPOT"): ("L-6B0D517C", "All Trn Spot Instance Requests"),
}


def _family(instance_type: str) -> str:
    """`inf2.xlarge` -> `inf`, `trn1.32xlarge` -> `trn`."""
    if instance_type in NEURON_INSTANCES:
        return NEURON_INSTANCES[instance_type].family
    match = re.match(r"[a-z]+", instance_type)
    return match.group(0) if match else instance_type


def _quota_value(sq: Any, code: str) -> dict[str, Any]:
    """Applied quota; AWS default when no applied value exists (NoSuchResourceException)."""
    try:
        return sq.get_service_quota(ServiceCode="ec2", QuotaCode=code)["Quota"]
    except ClientError as exc:
        if _error_code(exc) != "NoSuchResourceException":
            raise
    return sq.get_aws_default_service_quota(ServiceCode="ec2", QuotaCode=code)["Quota"]


def check_neuron_quota(target: PreflightTarget, clients: Clients) -> list[CheckResult]:
    """The family's vCPU quota covers max_size x vCPUs of its largest configured type."""
    if not target.neuron_instance_types:
        return [CheckResult("neuron-quota", True, "no Neuron instance types configured")]
    capacity = target.neuron_capacity_type
    by_family: dict[str, list[str]] = {}
    for itype in target.neuron_instance_types:
        by_family.setdefault(_family(itype), []).append(itype)

    results: list[CheckResult] = []
    for family, types in sorted(by_family.items()):
        name = f"neuron-quota {family}"
        unknown = [t for t in types if t not in NEURON_INSTANCES]
        if unknown:
            results.append(CheckResult(name, False, f"vCPU count unknown for {', '.join(unknown)}",
                                       "use a type from components.catalog.NEURON_INSTANCES or add it there"))
            continue
        if (family, capacity) not in QUOTA_CODES:
            results.append(CheckResult(name, False, f"no quota code known for family {family!r} / {capacity}",
                                       "use neuron.capacityType ON_DEMAND or SPOT with inf2.* / trn1.* instance types"))
            continue
        code, quota_name = QUOTA_CODES[(family, capacity)]
        largest = max(types, key=lambda t: NEURON_INSTANCES[t].vcpus)
        results += _guard(name, "service-quotas",
                          partial(_quota_result, name, clients, target, code, quota_name, largest))
    return results


def _quota_result(name: str, clients: Clients, target: PreflightTarget, code: str, quota_name: str,
                  largest: str) -> CheckResult:
    vcpus = NEURON_INSTANCES[largest].vcpus
    needed = target.neuron_max_size * vcpus
    quota = _quota_value(clients("service-quotas"), code)
    value = int(quota.get("Value", 0))
    label = f"{quota_name} ({code})"
    if quota.get("QuotaName") and quota["QuotaName"] != quota_name:
        label += f" [AWS names it {quota['QuotaName']!r}]"
    need_text = f"needs {needed} vCPUs ({target.neuron_max_size} x {largest} at {vcpus} vCPUs)"
    if value >= needed:
        return CheckResult(name, True, f"{label} is {value} vCPUs; {need_text}")
    return CheckResult(
        name, False, f"{label} is {value} vCPUs in {target.region}; {need_text}",
        f"request an increase to at least {needed}: aws service-quotas request-service-quota-increase "
        f"--service-code ec2 --quota-code {code} --desired-value {needed} --region {target.region} "
        "(or lower neuron.maxSize / choose a smaller instance type)",
    )


# ---------------------------------------------------------------------------------------------
# 4. Bedrock models

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
            if _error_code(exc) not in _NOT_FOUND_CODES:
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
        if _error_code(exc) not in _NOT_FOUND_CODES:
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
        results += _guard(f"bedrock {model_id}", "bedrock",
                          lambda m=model_id: _check_bedrock_model(m, target, clients))
    return results


# ---------------------------------------------------------------------------------------------
# 5. EKS version


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else -1 for p in version.split("."))


def _version_status(info: dict[str, Any]) -> str:
    """`versionStatus` (STANDARD_SUPPORT ...), falling back to the deprecated `status`."""
    return str(info.get("versionStatus") or info.get("status") or "UNKNOWN").upper().replace("-", "_")


def _in_standard_support(info: dict[str, Any], now: datetime) -> bool:
    end = info.get("endOfStandardSupportDate")
    return _version_status(info) == "STANDARD_SUPPORT" and (end is None or end > now)


def _has_operation(client: Any, operation: str) -> bool:
    return operation in client.meta.service_model.operation_names


def check_eks_version(target: PreflightTarget, clients: Clients) -> list[CheckResult]:
    """The configured Kubernetes version is offered in the region and in standard support."""
    return _guard("eks-version", "eks", lambda: _eks_version_result(target, clients))


def _eks_version_result(target: PreflightTarget, clients: Clients) -> CheckResult:
    eks = clients("eks")
    if not _has_operation(eks, "DescribeClusterVersions"):
        return _eks_version_from_addons(target, eks)
    now = datetime.now(UTC)
    versions: dict[str, dict[str, Any]] = {}
    for page in eks.get_paginator("describe_cluster_versions").paginate(includeAll=True):
        for info in page.get("clusterVersions", []):
            if "outpost" in str(info.get("clusterType", "")).lower():
                continue
            versions[info["clusterVersion"]] = info
    supported = sorted((v for v, i in versions.items() if _in_standard_support(i, now)), key=_version_key)
    if supported:
        newest = f"set cluster.version to {supported[-1]} (newest in standard support in {target.region})"
    else:
        newest = f"pick a version listed by `aws eks describe-cluster-versions --region {target.region}`"
    version = target.eks_version
    info = versions.get(version)
    if info is None:
        return CheckResult("eks-version", False, f"Kubernetes {version} is not offered by EKS in {target.region}",
                           newest)
    end = info.get("endOfStandardSupportDate")
    end_text = f"{end:%Y-%m-%d}" if isinstance(end, datetime) else ""
    if not _in_standard_support(info, now):
        ended = f", standard support ends {end_text}" if end_text else ""
        return CheckResult("eks-version", False,
                           f"Kubernetes {version} is {_version_status(info)}{ended} (extended support costs extra)",
                           newest)
    until = f" until {end_text}" if end_text else ""
    return CheckResult("eks-version", True, f"Kubernetes {version} in standard support{until} in {target.region}")


def _eks_version_from_addons(target: PreflightTarget, eks: Any) -> CheckResult:
    """Fallback for old boto3 without DescribeClusterVersions: a version is offered when the
    vpc-cni add-on has builds for it. End of standard support cannot be seen this way."""
    seen: set[str] = set()
    for page in eks.get_paginator("describe_addon_versions").paginate(addonName="vpc-cni"):
        for addon in page.get("addons", []):
            for build in addon.get("addonVersions", []):
                seen.update(c["clusterVersion"] for c in build.get("compatibilities", []) if "clusterVersion" in c)
    if target.eks_version in seen:
        return CheckResult("eks-version", True,
                           f"Kubernetes {target.eks_version} offered in {target.region} (support end date not "
                           "checked: this boto3 lacks DescribeClusterVersions, upgrade it for the full check)")
    if seen:
        fix = f"set cluster.version to {max(seen, key=_version_key)} (newest offered in {target.region})"
    else:
        fix = "pick a version offered by EKS in the region"
    return CheckResult("eks-version", False,
                       f"Kubernetes {target.eks_version} is not offered by EKS in {target.region}", fix)


# ---------------------------------------------------------------------------------------------

CHECKS: tuple[Callable[[PreflightTarget, Clients], list[CheckResult]], ...] = (
    check_neuron_capacity,
    check_neuron_quota,
    check_bedrock_models,
    check_eks_version,
)


def run_checks(target: PreflightTarget, clients: Clients) -> list[CheckResult]:
    """Credentials first; if AWS cannot be called at all, the others are reported as not run."""
    try:
        results = [_identity_result(target, clients)]
    except AWS_ERRORS as exc:
        return [result_from_aws_error("credentials", "sts", exc)] + [
            CheckResult(check.__name__.removeprefix("check_").replace("_", "-"), False,
                        "not run: AWS credentials are not usable", "fix the credentials check first")
            for check in CHECKS
        ]
    for check in CHECKS:
        results += check(target, clients)
    return results
