"""An AWS WAF web ACL for the ALB: AWS managed rule groups, default allow.

A regional web ACL (scope REGIONAL) is what an ALB takes; each managed rule group is referenced
with override_action none (its own block actions apply) and CloudWatch metrics on (AWS WAF
Developer Guide, "Using managed rule groups"; pulumi-aws wafv2.WebAcl).
"""

from __future__ import annotations

from typing import Optional

import pulumi
from pulumi_aws import wafv2

from components.settings.front_door import WafSettings


def managed_rules(waf: WafSettings) -> list[dict]:
    """One rule per managed rule group, in the order given (priority = position)."""
    return [
        {
            "name": group,
            "priority": i,
            "override_action": {"none": {}},
            "statement": {"managed_rule_group_statement": {"vendor_name": "AWS", "name": group}},
            "visibility_config": {"cloudwatch_metrics_enabled": True, "sampled_requests_enabled": True,
                                  "metric_name": group},
        }
        for i, group in enumerate(waf.managed_rule_groups)
    ]


class FrontDoorWaf(pulumi.ComponentResource):
    """The web ACL the IngressClassParams attach to the ALB (wafv2AclArn)."""

    arn: pulumi.Output[str]

    def __init__(self, name: str, waf: WafSettings, tags: dict[str, str],
                 opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("genai:front_door:Waf", name, {}, opts)
        acl = wafv2.WebAcl(
            f"{name}-acl", name=name, scope="REGIONAL", default_action={"allow": {}},
            rules=managed_rules(waf),
            visibility_config={"cloudwatch_metrics_enabled": True, "sampled_requests_enabled": True, "metric_name": name},
            tags=tags, opts=pulumi.ResourceOptions(parent=self),
        )
        self.arn = acl.arn
        self.register_outputs({"arn": self.arn})
