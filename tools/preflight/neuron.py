"""Preflight checks of Neuron capacity: instance type offerings per availability zone, and
the vCPU quota of each Neuron family."""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from botocore.exceptions import ClientError

from components.catalog import NEURON_INSTANCES

from .context import Clients, PreflightTarget, error_code, guard
from .report import CheckResult

# ---------------------------------------------------------------------------------------------
# Neuron capacity per availability zone

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

    return guard("neuron-capacity", "ec2", run)


# ---------------------------------------------------------------------------------------------
# Service Quotas: vCPU quota of each Neuron family
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
        if error_code(exc) != "NoSuchResourceException":
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
        results += guard(name, "service-quotas",
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
