"""Container logs off the nodes: the `amazon-cloudwatch-observability` EKS add-on (Fluent Bit) with
EKS Pod Identity, into log groups this program creates with the retention from settings.

The add-on's Fluent Bit writes to `/aws/containerinsights/<cluster>/{application,dataplane,host}`
and creates a group only when missing, so creating them here first sets their retention (a group
the add-on creates never expires). Pod Identity for this add-on needs version 3.1.0 or later
(CloudWatch user guide, "Install the CloudWatch Observability EKS add-on"); it runs as the
`cloudwatch-agent` service account of `amazon-cloudwatch` with `CloudWatchAgentServerPolicy`.
"""

from __future__ import annotations

import json
from typing import Optional

import pulumi
from pulumi_aws import cloudwatch, eks

from components import catalog
from components.pod_identity import PodIdentityRole
from components.settings.monitoring import LogSettings

ADDON = catalog.LOGS_ADDON
ADDON_NAMESPACE = "amazon-cloudwatch"
ADDON_SERVICE_ACCOUNT = "cloudwatch-agent"
LOG_GROUP_KINDS = ("application", "dataplane", "host")
EXPECTED_GB_TAG = "genai-platform/expected-gb-per-month"


def log_group_name(cluster_name: str, kind: str) -> str:
    return f"/aws/containerinsights/{cluster_name}/{kind}"


def ship_logs(name: str, *, parent: pulumi.Resource, settings: LogSettings, region: str,
              cluster_name: pulumi.Input[str], account_id: pulumi.Input[str], tags: dict[str, str],
              addon_version: Optional[str] = None, depends_on: Optional[list[pulumi.Resource]] = None) -> eks.Addon:
    """Log groups, the add-on's Pod Identity role and the add-on itself (`addon_version`: the pin
    from cluster.addonVersions; unset = EKS's default build for the cluster's Kubernetes version)."""
    child = pulumi.ResourceOptions(parent=parent)
    groups = [
        cloudwatch.LogGroup(
            f"{name}-{kind}",
            name=pulumi.Output.from_input(cluster_name).apply(lambda c, k=kind: log_group_name(c, k)),
            retention_in_days=settings.retention_days,
            # What the cost estimate assumes this group ingests (tools/cost reads it)
            tags={**tags, EXPECTED_GB_TAG: f"{settings.expected_gb_per_month / len(LOG_GROUP_KINDS):.2f}"},
            opts=child,
        )
        for kind in LOG_GROUP_KINDS
    ]
    partition = catalog.partition_for(region)
    role = PodIdentityRole(
        f"{name}-agent", parent=parent, cluster_name=cluster_name, account_id=account_id, tags=tags,
        managed_policy_arns=[f"arn:{partition}:iam::aws:policy/CloudWatchAgentServerPolicy"],
        addon_service_accounts=[(ADDON_NAMESPACE, ADDON_SERVICE_ACCOUNT)],
    )
    return eks.Addon(
        f"{name}-addon",
        cluster_name=cluster_name,
        addon_name=ADDON,
        addon_version=addon_version,
        # Container logs are what this add-on is for here; metrics come from Prometheus
        configuration_values=json.dumps({"containerLogs": {"enabled": True}}),
        pod_identity_associations=[{"role_arn": role.role.arn, "service_account": ADDON_SERVICE_ACCOUNT}],
        resolve_conflicts_on_create="OVERWRITE",
        resolve_conflicts_on_update="OVERWRITE",
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[*groups, *(depends_on or [])]),
    )
