"""The front-door rule: an internet-facing ALB entry (an Ingress of a class served by the AWS Load
Balancer Controller) must be HTTPS and restricted by an allow-list or a WAF web ACL.

What the controller does (kubernetes-sigs/aws-load-balancer-controller v3.5.0,
docs/guide/ingress/ingress_class.md and annotations.md): an IngressClass with controller
`ingress.k8s.aws/alb` may name IngressClassParams; a field set there (scheme, inboundCIDRs,
certificateArn, sslRedirectPort, wafv2AclArn/wafv2AclName) wins over the Ingress annotation
(alb.ingress.kubernetes.io/scheme, inbound-cidrs, certificate-arn, ssl-redirect, wafv2-acl-arn).
Without either, the scheme is `internal` and the inbound CIDRs are 0.0.0.0/0 and ::/0; listeners
come only from `listen-ports` (default HTTP 80, or HTTPS 443 with a certificate).
"""

from __future__ import annotations

import json
from typing import Any, Mapping, Optional

from pulumi_policy import EnforcementLevel, ReportViolation, StackValidationArgs, StackValidationPolicy

from ..common import as_list, dig, has_key, known_or

INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
INGRESS_CLASS = "kubernetes:networking.k8s.io/v1:IngressClass"
PARAMS = "kubernetes:elbv2.k8s.aws/v1beta1:IngressClassParams"
ALB_CONTROLLER = "ingress.k8s.aws/alb"
PREFIX = "alb.ingress.kubernetes.io/"
WORLD = {"0.0.0.0/0", "::/0"}


def _name(props: Mapping[str, Any]) -> Optional[str]:
    return known_or(lambda: dig(props, "metadata", "name"), None)


def _alb_params(args: StackValidationArgs) -> dict[str, Mapping[str, Any]]:
    """ALB ingress class name -> its IngressClassParams spec ({} when it names none)."""
    params = {_name(r.props): dig(r.props, "spec", default={}) for r in args.resources if r.resource_type == PARAMS}
    classes = {}
    for r in args.resources:
        if r.resource_type == INGRESS_CLASS and known_or(lambda r=r: dig(r.props, "spec", "controller"), None) == ALB_CONTROLLER:
            ref = known_or(lambda r=r: dig(r.props, "spec", "parameters", "name"), None)
            classes[_name(r.props)] = params.get(ref, {})
    return classes


def _setting(spec: Mapping[str, Any], field: str, annotations: Mapping[str, Any], annotation: str) -> Any:
    """The params field if set (an unknown value counts as set), else the annotation."""
    if has_key(spec, field):
        return known_or(lambda: spec[field], "<unknown>")
    return known_or(lambda: annotations.get(PREFIX + annotation), "<unknown>")


def _listen_protocols(annotations: Mapping[str, Any]) -> set[str]:
    raw = known_or(lambda: annotations.get(PREFIX + "listen-ports"), None)
    if raw is None:
        return {"HTTP"}
    try:
        return {protocol for entry in json.loads(raw) for protocol in entry}
    except (TypeError, ValueError, AttributeError):
        return {"<invalid>"}


def problems(spec: Mapping[str, Any], annotations: Mapping[str, Any]) -> list[str]:
    """Why an Ingress of an ALB class breaks the rule (empty: it does not)."""
    scheme = _setting(spec, "scheme", annotations, "scheme") or "internal"
    if scheme != "internet-facing":
        return []
    found = []
    protocols = _listen_protocols(annotations)
    certificate = _setting(spec, "certificateArn", annotations, "certificate-arn")
    if "HTTPS" not in protocols or not certificate:
        found.append("it does not listen on HTTPS with a certificate (listen-ports with HTTPS, certificateArn)")
    if protocols - {"HTTPS"} and not _setting(spec, "sslRedirectPort", annotations, "ssl-redirect"):
        found.append("its HTTP listener serves traffic instead of redirecting to HTTPS (sslRedirectPort / ssl-redirect)")
    cidrs = _setting(spec, "inboundCIDRs", annotations, "inbound-cidrs")
    cidrs = [c.strip() for c in (cidrs.split(",") if isinstance(cidrs, str) else as_list(cidrs))]
    allow_list = bool(cidrs) and not WORLD & set(cidrs)
    waf = any(_setting(spec, field, annotations, annotation) for field, annotation in
              (("wafv2AclArn", "wafv2-acl-arn"), ("wafv2AclName", "wafv2-acl-name")))
    if not allow_list and not waf:
        found.append("it is open to every address: no inbound CIDR allow-list (other than 0.0.0.0/0) and no WAF web ACL")
    return found


def _front_door(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    classes = _alb_params(args)
    for r in args.resources:
        if r.resource_type != INGRESS:
            continue
        annotations = dig(r.props, "metadata", "annotations", default={})
        klass = known_or(lambda r=r: dig(r.props, "spec", "ingressClassName"), None) or \
            known_or(lambda: annotations.get("kubernetes.io/ingress.class"), None)
        if klass not in classes and klass != "alb":
            continue
        found = problems(classes.get(klass, {}), annotations)
        if found:
            report_violation(
                f"Ingress {_name(r.props) or r.name} is an internet-facing ALB entry, but " + "; ".join(found) +
                ". Serve HTTPS only (HTTP redirected) and restrict it with inboundCIDRs or a WAF web ACL, "
                "or make it internal.",
                r.urn,
            )


def policies() -> list:
    return [
        StackValidationPolicy(
            name="k8s-front-door-https-restricted",
            description="An internet-facing ALB Ingress serves HTTPS only and has an inbound allow-list or a WAF web ACL.",
            enforcement_level=EnforcementLevel.MANDATORY,
            validate=_front_door,
        ),
    ]
