"""TLS and DNS for the front door's hosts.

- Certificate: an existing ACM certificate ARN, or one requested here for all hosts and validated
  with DNS records in the settings' hosted zone (acm.Certificate with validation_method DNS; its
  domain_validation_options give one CNAME per name; acm.CertificateValidation waits until ACM
  has issued it: pulumi-aws acm.CertificateValidation docs, "DNS Validation with Route 53").
- Records: the stack writes one Route 53 alias A record per host to the ALB. The ALB is created
  by the controller, not by Pulumi; its DNS name comes from the Ingress status, which the
  Kubernetes provider waits for before it finishes creating the Ingress (it awaits an entry in
  .status.loadBalancer.ingress: pulumi-kubernetes Ingress resource docs, "await logic"). The
  alias target's zone is the ALB's own canonical hosted zone, read from the load balancer
  (aws.lb.get_load_balancer by the tags the controller puts on it: `elbv2.k8s.aws/cluster` and
  `ingress.k8s.aws/stack` = the IngressGroup's name, aws-load-balancer-controller v3.5.0
  pkg/deploy/tracking/provider.go StackTags). Not aws.lb.get_hosted_zone_id: that is a static
  per-region table (terraform-provider-aws internal/service/elbv2/hosted_zone_id_data_source.go,
  e.g. us-east-1 Z35SXDOTRQ7X7K) that fails with "unsupported AWS Region" where it has no row, and
  the newest stored version has none for regions the catalog allows (ap-east-2, ap-southeast-5/6/7,
  mx-central-1). The lookup waits for the Ingress status, so the ALB exists when it runs.
  Chosen over external-dns: no second controller with write access to the zone, the records are
  in the stack's state (preview shows them, destroy removes them).
"""

from __future__ import annotations

from typing import Optional

import pulumi
from pulumi_aws import acm, lb, route53

from components.settings.front_door import FrontDoorSettings


class FrontDoorCertificate(pulumi.ComponentResource):
    """The certificate the ALB's HTTPS listener uses (existing, or requested and DNS-validated)."""

    arn: pulumi.Output[str]

    def __init__(self, name: str, front_door: FrontDoorSettings, hosts: list[str], tags: dict[str, str],
                 opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("genai:front_door:Certificate", name, {}, opts)
        if front_door.certificate_arn:
            self.arn = pulumi.Output.from_input(front_door.certificate_arn)
            self.register_outputs({"arn": self.arn})
            return
        child = pulumi.ResourceOptions(parent=self)
        certificate = acm.Certificate(
            f"{name}-cert", domain_name=hosts[0], subject_alternative_names=hosts[1:], validation_method="DNS",
            tags=tags, opts=child,
        )
        options = certificate.domain_validation_options
        records = [
            route53.Record(
                f"{name}-validation-{i}",
                zone_id=front_door.hosted_zone_id,
                name=options.apply(lambda o, i=i: o[i].resource_record_name),
                type=options.apply(lambda o, i=i: o[i].resource_record_type),
                records=[options.apply(lambda o, i=i: o[i].resource_record_value)],
                ttl=300, allow_overwrite=True, opts=child,
            )
            for i in range(len(hosts))  # one option per distinct name (no wildcards here)
        ]
        validation = acm.CertificateValidation(
            f"{name}-validation", certificate_arn=certificate.arn,
            validation_record_fqdns=[r.fqdn for r in records], opts=child,
        )
        self.arn = validation.certificate_arn
        self.register_outputs({"arn": self.arn})


def alb_tags(cluster_name: str, group: str) -> dict[str, str]:
    """The tags the controller puts on the ALB of an explicit IngressGroup."""
    return {"elbv2.k8s.aws/cluster": cluster_name, "ingress.k8s.aws/stack": group}


def alias_records(name: str, front_door: FrontDoorSettings, hosts: list[str], alb_hostname: pulumi.Input[str],
                  cluster_name: str, group: str, parent: pulumi.Resource) -> list[route53.Record]:
    """An alias A record per host to the shared ALB (only with a hosted zone in the settings)."""
    if not front_door.hosted_zone_id:
        return []
    # Looked up once the Ingress reports the ALB (unknown in a first preview: no lookup then)
    tags = pulumi.Output.from_input(alb_hostname).apply(lambda _: alb_tags(cluster_name, group))
    alb_zone = lb.get_load_balancer_output(tags=tags, opts=pulumi.InvokeOutputOptions(parent=parent)).zone_id
    return [
        route53.Record(
            f"{name}-{host.split('.')[0]}", zone_id=front_door.hosted_zone_id, name=host, type="A",
            aliases=[{"name": alb_hostname, "zone_id": alb_zone, "evaluate_target_health": True}],
            allow_overwrite=False, opts=pulumi.ResourceOptions(parent=parent),
        )
        for host in hosts
    ]
