"""Preflight checks of the cluster's Kubernetes version (offered by EKS in the region and in
standard support) and of its add-ons (each offered for that version in the region)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from .context import Clients, PreflightTarget, guard
from .report import CheckResult


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
    return guard("eks-version", "eks", lambda: _eks_version_result(target, clients))


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


def check_eks_addons(target: PreflightTarget, clients: Clients) -> list[CheckResult]:
    """Each add-on the program installs has a build for the cluster's Kubernetes version in the
    region (a pinned `cluster.addonVersions` entry is one of them). EKS offers add-ons per region:
    metrics-server, a community add-on, was missing from the China and GovCloud regions when eksctl
    stopped installing it there (eksctl-io/eksctl#8146); CreateAddon for a name or version that
    DescribeAddonVersions does not list fails (EKS API Reference, CreateAddon addonName/addonVersion)."""
    if not target.eks_addons:
        return []

    def run() -> list[CheckResult]:
        offered: dict[str, list[str]] = {}
        pages = clients("eks").get_paginator("describe_addon_versions").paginate(kubernetesVersion=target.eks_version)
        for page in pages:
            for addon in page.get("addons", []):
                builds = [b["addonVersion"] for b in addon.get("addonVersions", [])]
                offered.setdefault(addon["addonName"], []).extend(builds)
        pins = dict(target.addon_versions)
        return [_addon_result(target, name, offered.get(name, []), pins.get(name)) for name in target.eks_addons]

    return guard("eks-addons", "eks", run)


def _addon_result(target: PreflightTarget, name: str, builds: list[str], pin: str | None) -> CheckResult:
    check = f"eks-addon {name}"
    where = f"Kubernetes {target.eks_version} in {target.region}"
    if not builds:
        return CheckResult(check, False, f"EKS offers no {name} add-on for {where}: CreateAddon would fail",
                           "deploy to a region whose EKS offers it (`aws eks describe-addon-versions "
                           f"--addon-name {name} --kubernetes-version {target.eks_version}`) or change cluster.version")
    if pin and pin not in builds:
        newest = sorted(builds, key=lambda b: [int(n) for n in re.findall(r"\d+", b)])[-3:]
        return CheckResult(check, False, f"cluster.addonVersions pins {name} {pin}, not offered for {where}",
                           f"pulumi config set --path 'cluster.addonVersions.{name}' {newest[-1]} "
                           f"(newest: {', '.join(newest)}), or remove the pin for the EKS default")
    return CheckResult(check, True, f"{pin or 'default build'} offered for {where}")
