"""EKS control plane rules (`aws:eks/cluster:Cluster`).

pulumi-eks's `Cluster` is a component; the `aws:eks/cluster:Cluster` inside it is a real
resource that the pulumi-eks provider registers, so CrossGuard (and the offline engine's
emulation of it) sees exactly these properties.
"""

from __future__ import annotations

import ipaddress

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from .common import as_list, dig, has_key, is_list, is_map, known_or

EKS_CLUSTER = "aws:eks/cluster:Cluster"


def _cluster(args: ResourceValidationArgs) -> bool:
    return args.resource_type == EKS_CLUSTER


def _secrets_encryption(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if not _cluster(args):
        return
    configs = args.props.get("encryptionConfig")
    # pulumi-aws 7 models encryptionConfig as one object; older versions as a one-item list
    configs = [c for c in (as_list(configs) if is_list(configs) else [configs]) if is_map(c)]
    for config in configs:
        resources = known_or(lambda c=config: [str(r) for r in as_list(c.get("resources"))], ["secrets"])
        provider = dig(config, "provider")
        # The key ARN is an output of the KMS key: unknown during preview still means "set"
        key_set = has_key(provider, "keyArn") and known_or(lambda p=provider: bool(p["keyArn"]), True)
        if "secrets" in resources and key_set:
            return
    report_violation(
        "Kubernetes Secrets are not envelope-encrypted with a KMS key: set encryptionConfig "
        '{resources: ["secrets"], provider: {keyArn: <KMS key ARN>}} '
        "(pulumi-eks: encryptionConfigKeyArn).",
    )


def _api_authentication(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if not _cluster(args):
        return
    mode = dig(args.props, "accessConfig", "authenticationMode", default="CONFIG_MAP")
    if mode != "API":
        report_violation(
            f"accessConfig.authenticationMode is {mode!r}: use 'API' (access entries only; the aws-auth "
            "ConfigMap is not consulted).",
        )


def _audit_logging(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if not _cluster(args):
        return
    log_types = [str(t) for t in as_list(args.props.get("enabledClusterLogTypes"))]
    if "audit" not in log_types:
        report_violation(
            f"enabledClusterLogTypes {log_types} does not include 'audit': the control plane's audit log "
            "must be shipped to CloudWatch.",
        )


def _open_cidr(cidr: str) -> bool:
    try:
        return ipaddress.ip_network(cidr, strict=False).prefixlen == 0
    except ValueError:
        return False


def _public_endpoint(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if not _cluster(args):
        return
    vpc = args.props.get("vpcConfig") or {}
    # EKS defaults: public endpoint on, open to 0.0.0.0/0
    if vpc.get("endpointPublicAccess", True) is False:
        return
    cidrs = [str(c) for c in as_list(vpc.get("publicAccessCidrs"))]
    if not cidrs:
        report_violation(
            "The public API endpoint is on without publicAccessCidrs, i.e. open to 0.0.0.0/0: turn it off "
            "(endpointPublicAccess: false) or list the CIDRs allowed to reach it.",
        )
        return
    open_cidrs = [c for c in cidrs if _open_cidr(c)]
    if open_cidrs:
        report_violation(
            f"The public API endpoint is open to {', '.join(open_cidrs)}: restrict publicAccessCidrs to explicit "
            "CIDRs (office / VPN egress) or turn the public endpoint off.",
        )


def policies() -> list[ResourceValidationPolicy]:
    """The EKS control plane rules."""
    return [
        ResourceValidationPolicy(
            name="eks-secrets-encryption",
            description="EKS clusters envelope-encrypt Kubernetes Secrets with a KMS key.",
            enforcement_level=EnforcementLevel.MANDATORY,
            validate=_secrets_encryption,
        ),
        ResourceValidationPolicy(
            name="eks-api-authentication",
            description="EKS clusters use authentication mode API (access entries, no aws-auth ConfigMap).",
            enforcement_level=EnforcementLevel.MANDATORY,
            validate=_api_authentication,
        ),
        ResourceValidationPolicy(
            name="eks-audit-logging",
            description="EKS clusters ship the control plane audit log.",
            enforcement_level=EnforcementLevel.MANDATORY,
            validate=_audit_logging,
        ),
        ResourceValidationPolicy(
            name="eks-public-endpoint-restricted",
            description=(
                "The EKS public API endpoint is off or restricted to explicit CIDRs (never 0.0.0.0/0). "
                "Advisory in dev, mandatory in prod: set enforcementLevel in the stack's pack config."
            ),
            enforcement_level=EnforcementLevel.MANDATORY,
            validate=_public_endpoint,
        ),
    ]
