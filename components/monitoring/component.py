"""The metrics stack: kube-prometheus-stack (pinned Helm release), scrape targets, neuron-monitor,
dashboards, alert rules, Alertmanager's receiver, and container logs to CloudWatch."""

from __future__ import annotations

import json
from typing import Optional, TypedDict

import pulumi
import pulumi_random as random
from pulumi_kubernetes.apiextensions import CustomResource
from pulumi_kubernetes.apps.v1 import DaemonSet
from pulumi_kubernetes.core.v1 import ConfigMap, Namespace
from pulumi_kubernetes.helm.v3 import Release

from components.k8s.secret import k8s_secret
from components.front_door.plan import FrontDoorPlan
from components.monitoring import alerts, dashboards, grafana_access, neuron_monitor, scrape, values
from components.monitoring.logs import ADDON, ship_logs
from components.monitoring.network import monitoring_network_policies
from components.pod_identity import PodIdentityRole, policy_document
from components.settings import Settings
from components.settings.monitoring import AlertReceiver

MONITORING_API = "monitoring.coreos.com/v1"



def alertmanager_statements(receiver: AlertReceiver) -> list[dict]:
    """Publish to the one topic; with an encrypted topic's key, use that key only through SNS
    (publishers need kms:GenerateDataKey* and kms:Decrypt, SNS Developer Guide "Key management"),
    for this topic's messages only: SNS passes the topic as encryption context `aws:sns:topicArn`
    (the key-policy example in the GameLift FlexMatch guide, "Set up an SNS topic with server-side
    encryption")."""
    statements = [{"Effect": "Allow", "Action": ["sns:Publish"], "Resource": [receiver.topic_arn]}]
    if receiver.kms_key_arn:
        statements.append({"Effect": "Allow", "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
                           "Resource": [receiver.kms_key_arn],
                           "Condition": {"StringEquals": {"kms:EncryptionContext:aws:sns:topicArn": receiver.topic_arn}}})
    return statements

class MonitoringArgs(TypedDict):
    """Inputs of `Monitoring`."""

    settings: Settings
    """The stack settings (monitoring section, models, region)."""
    platform_namespace: str
    """The namespace of the apps that are scraped (`genai`)."""
    cluster_name: pulumi.Input[str]
    """EKS cluster name (Pod Identity, log groups)."""
    account_id: pulumi.Input[str]
    """The cluster's account."""
    provider: pulumi.ProviderResource
    """Kubernetes provider of the cluster."""
    tags: dict[str, str]
    """AWS tags."""
    depends_on: list[pulumi.Resource]
    """What must exist first (the default StorageClass, the node groups)."""
    alert_webhook_url: Optional[pulumi.Input[str]]
    """The secret config `alertWebhookUrl` (with receiver kind webhook), else None."""
    front_door: Optional[FrontDoorPlan]
    """The front door (Grafana's host, SSO client, ALB subnets), or None: port-forward only."""


class Monitoring(pulumi.ComponentResource):
    """Prometheus, Alertmanager and Grafana in `monitoring`; Grafana also at https://grafana.<domain> with
    the front door (its Ingress is one of the front door's routes), else through kubectl port-forward."""

    grafana_admin_password: pulumi.Output[str]
    """Grafana's generated admin password (secret)."""

    def __init__(self, name: str, args: MonitoringArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("genai:monitoring:Monitoring", name, {}, opts)
        settings, ns = args["settings"], values.NAMESPACE
        mon = settings.monitoring
        k8s = pulumi.ResourceOptions(parent=self, provider=args["provider"])

        # node-exporter (host network, host PID, host paths) needs the `privileged` Pod Security level
        namespace = Namespace(
            f"{name}-ns",
            metadata={"name": ns, "labels": {"pod-security.kubernetes.io/enforce": "privileged",
                                              "pod-security.kubernetes.io/warn": "baseline",
                                              "app.kubernetes.io/part-of": "genai-platform"}},
            opts=pulumi.ResourceOptions.merge(k8s, pulumi.ResourceOptions(depends_on=args["depends_on"])),
        )
        in_ns = pulumi.ResourceOptions.merge(k8s, pulumi.ResourceOptions(depends_on=[namespace]))

        # Grafana's admin password: generated once, stable across updates, never in the values
        password = random.RandomPassword(f"{name}-grafana-admin", length=32, special=False,
                                         opts=pulumi.ResourceOptions(parent=self))
        secrets = [k8s_secret(values.GRAFANA_ADMIN_SECRET, ns, {"admin-user": "admin", "admin-password": password.result},
                              in_ns)]

        # Webhook receiver: its URL only in a Secret that Alertmanager reads (url_file), never in the values
        if mon.receiver.kind == "webhook":
            secrets.append(k8s_secret(values.WEBHOOK_SECRET, ns, {values.WEBHOOK_SECRET_KEY: args["alert_webhook_url"]},
                                      in_ns))
        # Grafana's SSO client secret: in a Secret read through env, never in the values
        front_door = args.get("front_door")
        if front_door and front_door.grafana_sso and "grafana" in front_door.routes:
            secrets.append(k8s_secret(grafana_access.SSO_SECRET, ns,
                                      {grafana_access.SSO_SECRET_KEY: front_door.grafana_sso.client_secret}, in_ns))
        # SNS receiver: Alertmanager publishes with its own Pod Identity role
        if mon.receiver.kind == "sns":
            PodIdentityRole(
                f"{name}-alertmanager", parent=self, cluster_name=args["cluster_name"], account_id=args["account_id"],
                tags=args["tags"], service_accounts=[(ns, values.ALERTMANAGER_SERVICE_ACCOUNT)],
                policy=json.dumps(policy_document(alertmanager_statements(mon.receiver))),
            )

        release = Release(
            f"{name}-kps",
            name=values.RELEASE,
            chart=values.CHART,
            version=mon.chart_version,
            repository_opts={"repo": values.CHART_REPO},
            namespace=ns,
            values=values.chart_values(settings, front_door),
            # CRDs first, then the operator; wait for the release before the monitors that need them
            skip_await=False,
            timeout=900,
            opts=pulumi.ResourceOptions.merge(in_ns, pulumi.ResourceOptions(depends_on=[namespace, *secrets])),
        )
        after_release = pulumi.ResourceOptions.merge(k8s, pulumi.ResourceOptions(depends_on=[release]))

        for target in scrape.targets(args["platform_namespace"]):
            CustomResource(
                f"{name}-{target.name}-monitor", api_version=MONITORING_API, kind=target.kind,
                metadata={"name": target.name, "namespace": ns, "labels": {"app.kubernetes.io/part-of": "genai-platform"}},
                spec=target.spec(), opts=after_release,
            )
        CustomResource(
            f"{name}-rules", api_version=MONITORING_API, kind="PrometheusRule",
            metadata={"name": alerts.GROUP, "namespace": ns, "labels": {"app.kubernetes.io/part-of": "genai-platform"}},
            spec=alerts.rule_groups(settings), opts=after_release,
        )
        for uid, model in dashboards.all_dashboards().items():
            ConfigMap(
                f"{name}-dashboard-{uid}",
                metadata={"name": f"dashboard-{uid}", "namespace": ns,
                          "labels": {values.DASHBOARD_LABEL: "1", "app.kubernetes.io/part-of": "genai-platform"},
                          "annotations": {"grafana_folder": "GenAI platform"}},
                data={f"{uid}.json": json.dumps(model, indent=2, sort_keys=True)},
                opts=in_ns,
            )
        if settings.models:
            # Beside the Neuron device plugin in kube-system: node agents live there, and the pack's
            # platform exemption for its privileged container names exactly this place and image
            DaemonSet(
                f"{name}-neuron-monitor",
                metadata={"name": neuron_monitor.NAME, "namespace": neuron_monitor.NAMESPACE,
                          "labels": {"app.kubernetes.io/name": neuron_monitor.NAME}},
                spec=neuron_monitor.daemonset_spec(mon.neuron_monitor_image),
                opts=k8s,
            )
        monitoring_network_policies(name, settings, ns, front_door, in_ns)
        if mon.logs.enabled:
            ship_logs(f"{name}-logs", parent=self, settings=mon.logs, region=settings.region,
                      cluster_name=args["cluster_name"], account_id=args["account_id"], tags=args["tags"],
                      addon_version=settings.cluster.addon_versions.get(ADDON), depends_on=args["depends_on"])

        self.grafana_admin_password = pulumi.Output.secret(password.result)
        self.register_outputs({"grafana_admin_password": self.grafana_admin_password})
