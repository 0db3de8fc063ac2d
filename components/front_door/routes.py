"""The shared ALB as Kubernetes objects: IngressClassParams (the ALB's settings, enforced for every
Ingress of the class), the IngressClass, and one Ingress per host in the same IngressGroup.

Facts from kubernetes-sigs/aws-load-balancer-controller v3.5.0:
- IngressClassParams `elbv2.k8s.aws/v1beta1`, cluster-scoped, spec fields group.name, scheme,
  inboundCIDRs, certificateArn, sslPolicy, sslRedirectPort, subnets.ids, targetType, tags,
  wafv2AclArn (apis/elbv2/v1beta1/ingressclassparams_types.go). When set there, the controller
  ignores the Ingress annotations group.name, scheme, inbound-cidrs, certificate-arn, ssl-policy,
  ssl-redirect, subnets, target-type and wafv2-acl-arn (docs/guide/ingress/ingress_class.md):
  no Ingress of the class can widen the exposure.
- IngressClass spec.controller `ingress.k8s.aws/alb`, parameters apiGroup elbv2.k8s.aws kind
  IngressClassParams (ingress_class.md).
- Listeners exist only through `alb.ingress.kubernetes.io/listen-ports` on the Ingresses
  (merged across the group; ingress_class.md "spec.listeners" note, annotations.md listen-ports);
  with sslRedirectPort '443' every HTTP listener only redirects to HTTPS (annotations.md ssl-redirect).
- Ingresses of one group share one ALB (annotations.md group.name, "explicit IngressGroup").
"""

from __future__ import annotations

import json
from typing import Any

import pulumi

from components.settings.front_door import FrontDoorSettings

INGRESS_CLASS = "genai-alb"
GROUP = "genai-platform"
CONTROLLER = "ingress.k8s.aws/alb"
PARAMS_API = "elbv2.k8s.aws/v1beta1"
LISTEN_PORTS = [{"HTTP": 80}, {"HTTPS": 443}]
# route -> (Service, Service port, health check path on the pod)
BACKENDS = {
    "chat": ("open-webui", 80, "/health"),
    "traces": ("langfuse", 3000, "/api/public/health"),
    "api": ("litellm", 4000, "/health/liveliness"),
    # kube-prometheus-stack's Grafana (fullnameOverride kps): Service port 80 -> container 3000, the chart's
    # readiness path (grafana-community/helm-charts grafana 12.3.3 values.yaml service, readinessProbe)
    "grafana": ("kps-grafana", 80, "/api/health"),
}
# Routes whose Service lives outside the platform namespace
NAMESPACES = {"grafana": "monitoring"}


def ingress_class_params_spec(front_door: FrontDoorSettings, subnet_ids: pulumi.Input[list[str]],
                              certificate_arn: pulumi.Input[str], waf_arn: pulumi.Input[str] | None,
                              tags: dict[str, str]) -> dict[str, Any]:
    """The ALB's settings: one group, scheme, subnets, TLS, redirect, allow-list, WAF."""
    spec: dict[str, Any] = {
        "group": {"name": GROUP},
        "scheme": front_door.scheme,
        "subnets": {"ids": subnet_ids},
        "targetType": "ip",
        "certificateArn": [certificate_arn],
        "sslPolicy": front_door.ssl_policy,
        "sslRedirectPort": "443",
        "tags": [{"key": k, "value": v} for k, v in sorted(tags.items())],
    }
    if front_door.allowed_cidrs:  # without one, an internal ALB is still reachable only inside the VPC
        spec["inboundCIDRs"] = list(front_door.allowed_cidrs)
    if waf_arn is not None:
        spec["wafv2AclArn"] = waf_arn
    return spec


def ingress_class_spec() -> dict[str, Any]:
    return {
        "controller": CONTROLLER,
        "parameters": {"apiGroup": PARAMS_API.split("/")[0], "kind": "IngressClassParams", "name": INGRESS_CLASS},
    }


# Paths the ALB answers itself with a 404 instead of forwarding: LiteLLM's /metrics is open without
# a key for the in-cluster Prometheus (require_auth_for_metrics_endpoint: false, gateway_config.py)
BLOCKED_PATHS = {"api": ["/metrics"]}
BLOCK_ACTION = "not-found"  # an `actions.<name>` annotation, used by a backend on port name `use-annotation`


def ingress_annotations(route: str) -> dict[str, str]:
    """Per-Ingress settings the class cannot hold: listeners, the target health check and the
    fixed-response action of blocked paths (aws-load-balancer-controller annotation guide:
    alb.ingress.kubernetes.io/actions.${action-name})."""
    annotations = {
        "alb.ingress.kubernetes.io/listen-ports": json.dumps(LISTEN_PORTS),
        "alb.ingress.kubernetes.io/healthcheck-path": BACKENDS[route][2],
    }
    if BLOCKED_PATHS.get(route):
        annotations[f"alb.ingress.kubernetes.io/actions.{BLOCK_ACTION}"] = json.dumps({
            "type": "fixed-response",
            "fixedResponseConfig": {"contentType": "text/plain", "statusCode": "404", "messageBody": "Not Found"},
        })
    return annotations


def ingress_spec(route: str, host: str) -> dict[str, Any]:
    """One host, every path to the route's Service except the blocked ones (listed first: the
    controller gives an Ingress's paths rule priorities in their order), TLS for that host
    (certificate from the class)."""
    service, port, _ = BACKENDS[route]
    blocked = [{"path": path, "pathType": "Prefix",
                "backend": {"service": {"name": BLOCK_ACTION, "port": {"name": "use-annotation"}}}}
               for path in BLOCKED_PATHS.get(route, [])]
    return {
        "ingressClassName": INGRESS_CLASS,
        "tls": [{"hosts": [host]}],
        "rules": [{
            "host": host,
            "http": {"paths": [*blocked, {
                "path": "/", "pathType": "Prefix",
                "backend": {"service": {"name": service, "port": {"number": port}}},
            }]},
        }],
    }
