"""Preflight check that `pulumi up` can reach the cluster's Kubernetes API from where it runs.

pulumi-eks and every Kubernetes resource call the API endpoint from the deployer's machine. With
the public endpoint on, EKS admits only sources in `publicAccessCidrs`; with it off, only sources
inside the VPC (or networks connected to it). Anything else times out resource after resource.
So: the caller's egress IP (`Clients.egress_ip`, https://checkip.amazonaws.com by default) must lie
in `publicAccessCidrs`, or the operator declares `cluster.deployerInVpc` and the VPC can exist
(an existing VPC, or the cluster of a stack that is already up) and let it through the cluster
security group (`cluster.privateAccessCidrs`).
"""

from __future__ import annotations

import ipaddress
import urllib.error

from botocore.exceptions import ClientError

from components.endpoint_access import EGRESS_IP_SERVICE, is_placeholder, non_internet_range, set_cidr_command

from .context import Clients, PreflightTarget, error_code, guard
from .report import CheckResult

NAME = "api-endpoint"
_EGRESS_ERRORS = (OSError, urllib.error.URLError, ValueError, TimeoutError)
_IN_VPC_FIX = ("when `pulumi up` runs inside the VPC (runner, bastion, VPN): `pulumi config set --path "
               "cluster.deployerInVpc true` and list that network in cluster.privateAccessCidrs")


def _egress_ip(clients: Clients) -> tuple[ipaddress.IPv4Address | None, str]:
    """(address, '') or (None, why it could not be determined)."""
    try:
        raw = clients.egress_ip()
    except _EGRESS_ERRORS as exc:
        return None, f"could not determine this machine's egress IP from {EGRESS_IP_SERVICE} ({exc})"
    try:
        address = ipaddress.ip_address(str(raw).strip())
    except ValueError:
        return None, f"{EGRESS_IP_SERVICE} answered {str(raw)[:40]!r}, not an IP address"
    if address.version != 4:
        return None, f"egress address {address} is IPv6; this IPv4 cluster's endpoint admits IPv4 sources only"
    return address, ""


def check_api_endpoint(target: PreflightTarget, clients: Clients) -> list[CheckResult]:
    """The Kubernetes API endpoint is reachable from this machine: egress IP in publicAccessCidrs,
    or a declared deployer inside a VPC that exists."""
    cidrs = list(target.public_access_cidrs)
    placeholders = [i for i, c in enumerate(cidrs) if is_placeholder(c)]
    address, why = _egress_ip(clients)
    your_cidr = f"{address}/32" if address else "<your egress IP>/32"

    if placeholders:
        i = placeholders[0]
        return [CheckResult(
            NAME, False, f"cluster.publicAccessCidrs[{i}] is still the placeholder {cidrs[i]!r}",
            f"{set_cidr_command(i, your_cidr)}" + ("" if address else f" (find the IP: curl {EGRESS_IP_SERVICE})"),
        )]
    for i, cidr in enumerate(cidrs):
        try:
            unreachable = non_internet_range(ipaddress.IPv4Network(cidr))
        except ValueError:
            return [CheckResult(NAME, False, f"cluster.publicAccessCidrs[{i}] = {cidr!r} is not an IPv4 CIDR",
                                set_cidr_command(i, your_cidr))]
        if unreachable:
            return [CheckResult(NAME, False, f"cluster.publicAccessCidrs[{i}] = {cidr} is {unreachable}: no "
                                "internet client has such an address (EKS refuses it)", set_cidr_command(i, your_cidr))]

    if address is not None:
        for i, cidr in enumerate(cidrs):
            if address in ipaddress.IPv4Network(cidr):
                return [CheckResult(NAME, True, f"egress IP {address} is in cluster.publicAccessCidrs[{i}] ({cidr})")]
    if target.deployer_in_vpc:
        return guard(NAME, "eks", lambda: _inside_vpc_result(target, clients, address))

    where = f"this machine's egress IP {address}" if address else why
    if not cidrs:
        return [CheckResult(
            NAME, False,
            f"the API endpoint is private only and cluster.deployerInVpc is not set: from outside the VPC "
            f"({where}) pulumi-eks and every Kubernetes resource time out",
            f"open the public endpoint to the deployer: {set_cidr_command(0, your_cidr)} "
            f"(remove it later, see README), or {_IN_VPC_FIX}",
        )]
    if address is None:
        return [CheckResult(NAME, False, why,
                            f"check the network / HTTPS_PROXY, or pass --egress-ip <ip> (curl {EGRESS_IP_SERVICE})")]
    return [CheckResult(
        NAME, False,
        f"egress IP {address} is not in cluster.publicAccessCidrs ({', '.join(cidrs)}): pulumi-eks and every "
        "Kubernetes resource would time out",
        f"add it: {set_cidr_command(len(cidrs), your_cidr)}; or run from a network inside those CIDRs; "
        f"or {_IN_VPC_FIX}",
    )]


def _inside_vpc_result(target: PreflightTarget, clients: Clients, address) -> CheckResult:
    """`deployerInVpc` is declared: the VPC must be able to contain the deployer (nobody is inside a
    VPC that the first `pulumi up` has yet to create), and the cluster security group must let it in."""
    seen_from = f" (egress IP {address})" if address else ""
    vpc = target.existing_vpc_id or f"the VPC of cluster {target.cluster_name}"
    if not target.existing_vpc_id:
        try:
            clients("eks").describe_cluster(name=target.cluster_name)
        except ClientError as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise
            return CheckResult(
                NAME, False,
                f"cluster.deployerInVpc is set, but this stack creates its VPC and cluster {target.cluster_name} "
                "does not exist yet: on the first `pulumi up` nothing can be inside that VPC",
                "deploy the first time through the public endpoint "
                f"({set_cidr_command(0, f'{address}/32' if address else '<your egress IP>/32')}), then close it "
                "(README, production endpoint); or set network.existingVpcId to a VPC you deploy from",
            )
    if not target.private_access_cidrs:
        return CheckResult(
            NAME, False,
            f"cluster.deployerInVpc is set but cluster.privateAccessCidrs is empty: inside {vpc} the endpoint admits "
            "only members of the cluster security group (the nodes), not a runner, bastion or VPN client",
            "pulumi config set --path 'cluster.privateAccessCidrs[0]' <runner subnet or VPN client CIDR>",
        )
    return CheckResult(NAME, True, f"deploying from inside {vpc} (cluster.deployerInVpc){seen_from}; "
                       f"TCP 443 open from cluster.privateAccessCidrs {', '.join(target.private_access_cidrs)}")
