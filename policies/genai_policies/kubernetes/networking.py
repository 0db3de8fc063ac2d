"""Kubernetes exposure and networking rules: no internet-facing LoadBalancer Service, and a
default-deny NetworkPolicy in every namespace the program creates."""

from __future__ import annotations

from typing import Any, Mapping

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from ..common import as_list, dig, is_map, known_or

SERVICE = "kubernetes:core/v1:Service"
NAMESPACE = "kubernetes:core/v1:Namespace"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"

INTERNAL_LB_ANNOTATIONS = {
    "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
    "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
}


def _no_public_load_balancer(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != SERVICE or dig(args.props, "spec", "type") != "LoadBalancer":
        return
    annotations = dig(args.props, "metadata", "annotations", default={})
    if any(str(annotations.get(k, "")).lower() == v for k, v in INTERNAL_LB_ANNOTATIONS.items()):
        return
    name = dig(args.props, "metadata", "name", default=args.name)
    report_violation(
        f"Service {name} is a LoadBalancer without an internal annotation: it would be internet-facing. Annotate "
        "service.beta.kubernetes.io/aws-load-balancer-scheme: internal, or use ClusterIP behind an internal ingress."
    )


def is_default_deny(policy_props: Mapping[str, Any]) -> bool:
    """Selects every pod, covers Ingress and Egress, allows nothing."""
    spec = policy_props.get("spec") or {}
    selector = spec.get("podSelector") or {}
    if not is_map(selector):
        return False
    labels = selector.get("matchLabels")
    if (is_map(labels) and len(labels) > 0) or as_list(selector.get("matchExpressions")):
        return False
    types = {str(t) for t in as_list(spec.get("policyTypes"))}
    return {"Ingress", "Egress"} <= types and not as_list(spec.get("ingress")) and not as_list(spec.get("egress"))


def _namespace_default_deny(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    namespaces = [r for r in args.resources if r.resource_type == NAMESPACE]
    policies = [r for r in args.resources if r.resource_type == NETWORK_POLICY and is_default_deny(r.props)]
    for namespace in namespaces:
        name = known_or(lambda n=namespace: dig(n.props, "metadata", "name"), None)
        covered = False
        for policy in policies:
            target = known_or(lambda p=policy: dig(p.props, "metadata", "namespace", default="default"), None)
            if target is None:  # preview: the namespace's name is not known yet
                covered = any(d.urn == namespace.urn for d in policy.dependencies)
            else:
                covered = target == name
            if covered:
                break
        if not covered:
            report_violation(
                f"Namespace {name or namespace.name} has no default-deny NetworkPolicy (podSelector {{}}, "
                "policyTypes [Ingress, Egress], no rules): pods there accept and send any traffic.",
                namespace.urn,
            )


def policies() -> list:
    """The exposure and networking rules."""
    return [
        ResourceValidationPolicy(
            name="k8s-no-public-load-balancer",
            description="Services of type LoadBalancer are internal (aws-load-balancer-scheme: internal).",
            enforcement_level=EnforcementLevel.MANDATORY,
            validate=_no_public_load_balancer,
        ),
        StackValidationPolicy(
            name="k8s-namespace-default-deny",
            description="Every namespace the program creates has a default-deny NetworkPolicy (ingress and egress).",
            enforcement_level=EnforcementLevel.MANDATORY,
            validate=_namespace_default_deny,
        ),
    ]
