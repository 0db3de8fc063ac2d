"""Who can reach the EKS API endpoint: the deployer's CIDR placeholder and the ranges that never can.

`pulumi up` talks to the Kubernetes API from the deployer's machine: pulumi-eks waits for `/healthz`
(only when the public endpoint is on, for at most 300 s, then carries on: pulumi/pulumi-eks
`nodejs/eks/cluster/cluster.ts`) and every Kubernetes resource goes through the provider's
kubeconfig. A deployer outside `cluster.publicAccessCidrs` (and outside the VPC) times out on all
of them. The committed stack files therefore carry a placeholder in place of the deployer's CIDR:

- settings accept it, so the offline preview and the tests run the committed files (the preview
  flags it);
- a real `pulumi preview` / `pulumi up` stops at it before anything is created
  (`refuse_placeholders_when_deploying`), and so does `python -m tools.preflight`.

Ranges that can never be the source of an internet connection (RFC 1918, RFC 5737 documentation
blocks, ...) are rejected by the settings outright: EKS refuses them too.
Pure functions only (no settings, no Pulumi at import): the settings, the preview, preflight and
the offline engine share them.
"""

from __future__ import annotations

import ipaddress
from typing import Optional

PROJECT = "genai-platform"  # the config namespace, as components.settings.errors.PROJECT

PLACEHOLDER_PREFIX = "PLACEHOLDER"
EGRESS_IP_SERVICE = "https://checkip.amazonaws.com"  # answers with the caller's public IPv4 address

# IANA special-purpose IPv4 blocks (RFC 6890) that are never the source address of a connection
# arriving from the internet. EKS refuses such blocks in publicAccessCidrs at CreateCluster /
# UpdateClusterConfig: "These CIDR blocks can't include reserved addresses" (AWS knowledge center,
# eks-lock-api-access-IP-addresses); "InvalidParameterException: The following CIDRs are not allowed
# in publicAccessCidrs" is reported for 10.1.0.96/27 (RFC 1918) and 203.0.113.0/24 (RFC 5737).
NON_INTERNET_BLOCKS: tuple[tuple[ipaddress.IPv4Network, str], ...] = tuple(
    (ipaddress.IPv4Network(block), what) for block, what in (
        ("0.0.0.0/8", "'this network' (RFC 1122)"),
        ("10.0.0.0/8", "a private range (RFC 1918)"),
        ("100.64.0.0/10", "carrier-grade NAT shared space (RFC 6598), translated before the internet"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local"),
        ("172.16.0.0/12", "a private range (RFC 1918)"),
        ("192.0.0.0/24", "IETF protocol assignments (RFC 6890)"),
        ("192.0.2.0/24", "documentation range TEST-NET-1 (RFC 5737)"),
        ("192.168.0.0/16", "a private range (RFC 1918)"),
        ("198.18.0.0/15", "benchmarking (RFC 2544)"),
        ("198.51.100.0/24", "documentation range TEST-NET-2 (RFC 5737)"),
        ("203.0.113.0/24", "documentation range TEST-NET-3 (RFC 5737)"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved (RFC 1112)"),
    )
)


def is_placeholder(cidr: object) -> bool:
    """`PLACEHOLDER-...` entries stand for a CIDR only the deployer knows."""
    return str(cidr).strip().upper().startswith(PLACEHOLDER_PREFIX)


def non_internet_range(net: ipaddress.IPv4Network) -> Optional[str]:
    """What `net` is when no internet client can have an address in it, else None."""
    for block, what in NON_INTERNET_BLOCKS:
        if net.subnet_of(block):
            return what
    return None


def public_cidr_problem(cidr: str) -> Optional[str]:
    """What a `publicAccessCidrs` entry must be instead, or None when it is fine (placeholders too:
    they are refused when deploying, not here)."""
    your_ip = f"your egress IP as <ip>/32 (curl {EGRESS_IP_SERVICE})"
    if is_placeholder(cidr):
        return None
    try:
        net = ipaddress.ip_network(cidr)
    except ValueError:
        return f"an IPv4 CIDR (network address, no host bits), e.g. {your_ip}"
    if net.version != 4:
        return (f"an IPv4 CIDR, e.g. {your_ip}: EKS public access CIDRs are IPv4 for this IPv4 cluster "
                "(only IPv6 clusters accept IPv6 blocks)")
    if net.prefixlen < 8:
        return ("a CIDR of /8 or longer: a shorter prefix opens the API endpoint to a large part of the "
                "internet (0.0.0.0/0 to all of it); list your office or VPN egress ranges")
    unreachable = non_internet_range(net)
    if unreachable:
        inside = "RFC 1918" in unreachable or "RFC 6598" in unreachable
        return (f"a public IPv4 range: this is {unreachable}, never the source of a connection from the "
                f"internet (EKS refuses it); list {your_ip}, or your office / VPN / CI runner egress range"
                + ("; a network inside or connected to the VPC goes in cluster.privateAccessCidrs" if inside else ""))
    return None


def private_cidr_problem(cidr: str) -> Optional[str]:
    """What a `privateAccessCidrs` entry (a network inside or connected to the VPC) must be instead, or None."""
    try:
        net = ipaddress.ip_network(cidr)
    except ValueError:
        net = None
    if net is None or net.version != 4 or net.prefixlen < 8:
        return "an IPv4 CIDR of /8 or longer (network address), e.g. a runner subnet such as 10.20.0.0/20"
    return None


def set_cidr_command(index: int, cidr: str = "<your egress IP>/32") -> str:
    """The command that puts `cidr` at `cluster.publicAccessCidrs[index]`."""
    return f"pulumi config set --path 'cluster.publicAccessCidrs[{index}]' {cidr}"


def placeholder_messages(public_access_cidrs: list[str]) -> list[str]:
    """One `key = value: what. Fix: ...` line per placeholder entry."""
    return [
        f"{PROJECT}:cluster.publicAccessCidrs[{i}] = {cidr!r}: a placeholder; the public API endpoint must allow "
        f"the IP address `pulumi up` runs from (find it: curl {EGRESS_IP_SERVICE}). Fix: {set_cidr_command(i)}"
        for i, cidr in enumerate(public_access_cidrs) if is_placeholder(cidr)
    ]


def _under_pulumi_mocks() -> bool:
    """True when the program runs under Pulumi's mocks (tools.offline, tests): nothing is deployed."""
    from pulumi.runtime.mocks import MockMonitor  # noqa: PLC0415 - only the program needs the runtime
    from pulumi.runtime.settings import get_monitor  # noqa: PLC0415

    return isinstance(get_monitor(), MockMonitor)


def refuse_placeholders_when_deploying(public_access_cidrs: list[str]) -> None:
    """Raise `pulumi.RunError` for placeholder CIDRs unless the run is an offline rehearsal.

    A real engine would otherwise hand `PLACEHOLDER-...` to EKS, which the AWS provider refuses
    (terraform-provider-aws validates each public_access_cidrs entry with ValidCIDRNetworkAddress), possibly after
    the VPC and IAM were created by an `up --skip-preview`."""
    import pulumi  # noqa: PLC0415

    messages = placeholder_messages(public_access_cidrs)
    if messages and not _under_pulumi_mocks():
        raise pulumi.RunError("The stack still has placeholders where only you know the value:\n"
                            + "\n".join(f"  {m}" for m in messages))
