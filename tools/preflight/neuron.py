"""Preflight checks of Neuron capacity: the instance types are offered in the Neuron group's
availability zone, and the vCPU quota of each Neuron family covers the group."""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from botocore.exceptions import ClientError

from components.catalog import NEURON_INSTANCES

from .context import Clients, PreflightTarget, error_code, guard
from .report import CheckResult

# ---------------------------------------------------------------------------------------------
# Neuron capacity in the Neuron group's availability zone
#
# The Neuron node group lives in ONE AZ (its model servers keep their cache on a zonal EBS volume,
# components/neuron_node_group.py), so every Neuron instance type must be offered in that AZ:
# DescribeInstanceTypeOfferings with LocationType availability-zone lists where a type is offered.

def _stack_azs(target: PreflightTarget, ec2: Any) -> tuple[list[str], list[str]]:
    """(AZs with the stack's private subnets, all AZs of the region), both sorted by name.

    Mirrors the program (components/network.py): the AZs of existing private subnets; else explicit
    `availability_zones`; else the first `az_count` available standard AZs of the region.
    """
    zones = ec2.describe_availability_zones(
        Filters=[{"Name": "zone-type", "Values": ["availability-zone"]},
                 {"Name": "state", "Values": ["available"]}],
    )["AvailabilityZones"]
    region_azs = sorted(z["ZoneName"] for z in zones)
    if target.existing_private_subnet_ids:
        subnets = ec2.describe_subnets(SubnetIds=list(target.existing_private_subnet_ids))["Subnets"]
        return sorted({s["AvailabilityZone"] for s in subnets}), region_azs
    chosen = list(target.availability_zones) if target.availability_zones else region_azs[: target.az_count]
    return sorted(chosen), region_azs


def _offered(target: PreflightTarget, ec2: Any) -> dict[str, set[str]]:
    """Instance type -> the AZs of the region that offer it."""
    offered: dict[str, set[str]] = {t: set() for t in target.neuron_instance_types}
    pages = ec2.get_paginator("describe_instance_type_offerings").paginate(
        LocationType="availability-zone",
        Filters=[{"Name": "instance-type", "Values": list(target.neuron_instance_types)}],
    )
    for page in pages:
        for offer in page["InstanceTypeOfferings"]:
            offered.setdefault(offer["InstanceType"], set()).add(offer["Location"])
    return offered


def check_neuron_capacity(target: PreflightTarget, clients: Clients) -> list[CheckResult]:
    """Every Neuron instance type is offered in the Neuron group's one AZ."""
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
        zone = target.neuron_availability_zone or chosen[0]
        if zone not in chosen:
            return [CheckResult(
                "neuron-capacity", False,
                f"neuron.availabilityZone {zone} is not one of the stack's AZs ({', '.join(chosen)})",
                f"pulumi config set --path 'neuron.availabilityZone' <one of {', '.join(chosen)}>",
            )]
        offered = _offered(target, ec2)
        every_type = set(region_azs).intersection(*offered.values())
        results = []
        for itype in target.neuron_instance_types:
            name = f"neuron-capacity {itype}"
            if zone in offered[itype]:
                results.append(CheckResult(name, True, f"offered in {zone}, the Neuron group's AZ"))
                continue
            detail = (f"{itype} is not offered in {zone}, the Neuron group's one AZ "
                      f"(offered in {', '.join(sorted(offered[itype])) or 'no AZ'} of {target.region})")
            results.append(CheckResult(name, False, detail, _zone_fix(itype, target, chosen, every_type, offered)))
        return results

    return guard("neuron-capacity", "ec2", run)


def _zone_fix(itype: str, target: PreflightTarget, chosen: list[str], every_type: set[str],
              offered: dict[str, set[str]]) -> str:
    """Where the Neuron group could go instead: a stack AZ that offers every type, else one to add."""
    in_stack = [z for z in chosen if z in every_type]
    if in_stack:
        return (f"pulumi config set --path 'neuron.availabilityZone' {in_stack[0]} "
                f"(stack AZs offering every Neuron type: {', '.join(in_stack)})")
    if every_type and not target.existing_private_subnet_ids:
        return (f"no stack AZ offers every Neuron type; put one of {', '.join(sorted(every_type))} in "
                "network.availabilityZones and set neuron.availabilityZone to it")
    if every_type:
        return (f"no AZ of existingPrivateSubnetIds offers every Neuron type: add a private subnet in one of "
                f"{', '.join(sorted(every_type))} and set neuron.availabilityZone to it")
    if offered[itype]:
        return f"no AZ of {target.region} offers all of {', '.join(target.neuron_instance_types)}: drop a type"
    return f"{itype} is not offered in {target.region}: pick another instance type or region"


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
        # The largest type, not the one the capacity check sizes for: when the first type has no
        # capacity, ON_DEMAND launches the next one in the list, and SPOT any of them
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
