"""k8s-front-door-https-restricted: the program's front door passes; each weakening of the real
dev-run IngressClassParams or Ingress is reported on exactly the Ingresses it exposes."""

from __future__ import annotations

import json

import pytest

from policy_cases import DELETE, covers, only_new, record, reported, set_in, variant

RULE = "k8s-front-door-https-restricted"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
PARAMS = "kubernetes:elbv2.k8s.aws/v1beta1:IngressClassParams"
ALB = "alb.ingress.kubernetes.io/"


def ingresses(dev) -> list[str]:
    return sorted(r.urn for r in dev.resources if r.type == INGRESS)


def test_the_program_front_door_passes(dev, dev_reported):
    assert ingresses(dev), "the dev stack has a front door"
    assert not {(rule, urn) for rule, urn in dev_reported if rule == RULE}


@covers(RULE)
@pytest.mark.parametrize("path, value", [
    (("spec", "inboundCIDRs"), DELETE),                     # no allow-list, no WAF
    (("spec", "inboundCIDRs"), ["0.0.0.0/0"]),             # an allow-list that allows everyone
    (("spec", "inboundCIDRs"), ["203.0.113.0/24", "::/0"]),
    (("spec", "sslRedirectPort"), DELETE),                  # HTTP served, not redirected
    (("spec", "certificateArn"), DELETE),                   # no certificate: no HTTPS listener
], ids=["no-allow-list", "world", "world-v6", "no-redirect", "no-certificate"])
def test_weakened_class_params_are_reported_on_every_ingress(dev, dev_reported, path, value):
    records, _ = variant(dev, PARAMS, "", set_in(path, value, key="both"))
    assert only_new(dev_reported, records) == {(RULE, urn) for urn in ingresses(dev)}


@pytest.mark.parametrize("path, value", [
    (("spec", "scheme"), "internal"),                       # internal: not an internet entry
    (("spec", "wafv2AclArn"), "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/x/1"),  # WAF instead
], ids=["internal", "waf"])
def test_open_class_params_pass_when_internal_or_behind_waf(dev, dev_reported, path, value):
    def change(r):
        set_in(("spec", "inboundCIDRs"), DELETE, key="both")(r)
        set_in(path, value, key="both")(r)
    records, _ = variant(dev, PARAMS, "", change)
    assert only_new(dev_reported, records) == set()


def test_an_ingress_cannot_reopen_what_the_class_closes(dev, dev_reported):
    """Params fields win over annotations (as the controller does): annotating an Ingress with
    inbound-cidrs 0.0.0.0/0 changes nothing; HTTP-only listen-ports is reported."""
    def widen(r):
        r.inputs["metadata"]["annotations"][ALB + "inbound-cidrs"] = "0.0.0.0/0"
        r.outputs["metadata"]["annotations"][ALB + "inbound-cidrs"] = "0.0.0.0/0"
    records, _ = variant(dev, INGRESS, "-chat", widen)
    assert only_new(dev_reported, records) == set()
    http_only = json.dumps([{"HTTP": 80}])
    records, urn = variant(dev, INGRESS, "-chat", set_in(("metadata", "annotations", ALB + "listen-ports"), http_only, key="both"))
    assert only_new(dev_reported, records) == {(RULE, urn)}


def _ingress(annotations: dict, klass: str = "alb") -> object:
    return record(INGRESS, f"web-{len(annotations)}", {
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "web", "namespace": "team", "annotations": annotations},
        "spec": {"ingressClassName": klass, "rules": [{"host": "web.example.com"}]},
    })


def test_annotation_only_ingress_of_the_default_alb_class():
    https = {ALB + "scheme": "internet-facing", ALB + "listen-ports": json.dumps([{"HTTPS": 443}]),
             ALB + "certificate-arn": "arn:aws:acm:us-east-1:123456789012:certificate/x"}
    broken = _ingress(https)
    assert reported([broken]) == {(RULE, broken.urn)}
    assert reported([_ingress({**https, ALB + "inbound-cidrs": "10.0.0.0/8"})]) == set()
    assert reported([_ingress({**https, ALB + "wafv2-acl-arn": "arn:aws:wafv2:x"})]) == set()
    assert reported([_ingress({ALB + "scheme": "internet-facing"}, klass="nginx")]) == set()  # not an ALB
    assert reported([_ingress({})]) == set()  # the controller's default scheme is internal


def test_published_controller_policy_is_exempt_from_wildcards_only_verbatim(dev, dev_reported):
    """iam-no-wildcards reports the controller's policy as not applicable (exactly the published
    file, by hash); one changed statement and the wildcard is reported again."""
    from components.front_door.controller import controller_policy  # noqa: PLC0415
    from policies.genai_policies.iam import published_policy  # noqa: PLC0415
    from policies.offline import evaluate  # noqa: PLC0415

    assert published_policy(controller_policy("aws")) and published_policy(controller_policy("aws-cn"))
    report = evaluate(dev, None)
    (exempt,) = [n for n in report.not_applicable if n.policy_name == "iam-no-wildcards"]
    assert exempt.urn.endswith("-lb-controller-policy") and "v3.5.0" in exempt.reason
    changed = controller_policy("aws")
    changed["Statement"].append({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
    records, urn = variant(dev, "aws:iam/rolePolicy:RolePolicy", "lb-controller",
                           set_in(("policy",), json.dumps(changed), key="both"))
    assert only_new(dev_reported, records) == {("iam-no-wildcards", urn)}
