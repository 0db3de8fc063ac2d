"""kube-prometheus-stack values and the Alertmanager configuration, built as data from settings.

Keys are the chart's (prometheus-community/helm-charts `charts/kube-prometheus-stack/values.yaml`);
tests/test_monitoring.py asserts what each choice is for.
"""

from __future__ import annotations

from typing import Any, Optional, TypedDict

from components.front_door.plan import FrontDoorPlan
from components.monitoring.grafana_access import grafana_values
from components.monitoring.metrics import NODE_GROUP_LABEL
from components.settings import Settings

NAMESPACE = "monitoring"
RELEASE = "kps"
CHART = "kube-prometheus-stack"
CHART_REPO = "https://prometheus-community.github.io/helm-charts"
DATASOURCE_UID = "prometheus"
ALERTMANAGER_SERVICE_ACCOUNT = "alertmanager"
GRAFANA_ADMIN_SECRET = "grafana-admin"
# The webhook receiver's URL: a Secret the operator mounts at /etc/alertmanager/secrets/<name>/
# (alertmanagerSpec.secrets; prometheus-operator v0.90.1 pkg/alertmanager/statefulset.go secretsDir),
# read by Alertmanager's webhook_config url_file at each notification (Alertmanager >= 0.26; the chart
# runs v0.32.1: config/notifiers.go WebhookConfig.URLFile, notify/webhook/webhook.go)
WEBHOOK_SECRET = "alertmanager-webhook"
WEBHOOK_SECRET_KEY = "url"
WEBHOOK_URL_FILE = f"/etc/alertmanager/secrets/{WEBHOOK_SECRET}/{WEBHOOK_SECRET_KEY}"
DASHBOARD_LABEL = "grafana_dashboard"
STORAGE_CLASS = "gp3"


class ChartValues(TypedDict):
    """The top-level sections of the chart values this program sets."""

    fullnameOverride: str
    crds: dict[str, Any]
    defaultRules: dict[str, Any]
    kubeControllerManager: dict[str, Any]
    kubeScheduler: dict[str, Any]
    kubeEtcd: dict[str, Any]
    kubeProxy: dict[str, Any]
    prometheusOperator: dict[str, Any]
    prometheus: dict[str, Any]
    alertmanager: dict[str, Any]
    grafana: dict[str, Any]
    kube_state_metrics: dict[str, Any]


def _claim(gib: int) -> dict[str, Any]:
    return {"spec": {"storageClassName": STORAGE_CLASS, "accessModes": ["ReadWriteOnce"],
                     "resources": {"requests": {"storage": f"{gib}Gi"}}}}


def alertmanager_config(settings: Settings) -> dict[str, Any]:
    """Route every alert to the receiver from settings; the chart's always-firing Watchdog to none."""
    receiver = settings.monitoring.receiver
    platform: dict[str, Any] = {"name": "platform"}
    if receiver.kind == "webhook":
        platform["webhook_configs"] = [{"url_file": WEBHOOK_URL_FILE, "send_resolved": True}]
    elif receiver.kind == "sns":
        # SigV4 with the AWS SDK's default credential chain: EKS Pod Identity (see component.py)
        platform["sns_configs"] = [{
            "topic_arn": receiver.topic_arn, "sigv4": {"region": receiver.topic_arn.split(":")[3]},
            "subject": "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}", "send_resolved": True,
        }]
    return {
        "route": {
            "receiver": "platform",
            "group_by": ["alertname", "namespace"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h",
            "routes": [{"receiver": "null", "matchers": ['alertname = "Watchdog"']}],
        },
        "receivers": [{"name": "null"}, platform],
    }


def chart_values(settings: Settings, front_door: Optional[FrontDoorPlan] = None) -> ChartValues:
    """Values of the pinned kube-prometheus-stack release (Grafana's URL and SSO from the front door)."""
    mon = settings.monitoring
    values: dict[str, Any] = {
        "fullnameOverride": RELEASE,
        "crds": {"enabled": True},
        "defaultRules": {"create": True},
        # EKS runs the control plane: its components cannot be scraped, and kube-proxy's metrics
        # listen on 127.0.0.1 only; their targets would only be down and alert.
        "kubeControllerManager": {"enabled": False},
        "kubeScheduler": {"enabled": False},
        "kubeEtcd": {"enabled": False},
        "kubeProxy": {"enabled": False},
        # Requests of every pod on the system nodes (components/system_pods.py counts them); the
        # config-reloader sidecar of Prometheus and Alertmanager takes these through the operator's flags
        "prometheusOperator": {
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
            "prometheusConfigReloader": {"resources": {"requests": {"cpu": "10m", "memory": "32Mi"},
                                                       "limits": {"memory": "64Mi"}}},
        },
        "prometheus": {"prometheusSpec": {
            "retention": mon.retention,
            # Drop the oldest blocks before the volume fills up
            "retentionSize": f"{max(1, int(mon.storage_gib * 0.85))}GB",
            "storageSpec": {"volumeClaimTemplate": _claim(mon.storage_gib)},
            # Select every ServiceMonitor/PodMonitor/PrometheusRule, not only the release's own
            "serviceMonitorSelectorNilUsesHelmValues": False,
            "podMonitorSelectorNilUsesHelmValues": False,
            "ruleSelectorNilUsesHelmValues": False,
            "resources": {"requests": {"cpu": "250m", "memory": "1Gi"}, "limits": {"memory": "2Gi"}},
        }},
        "alertmanager": {
            "config": alertmanager_config(settings),
            "serviceAccount": {"create": True, "name": ALERTMANAGER_SERVICE_ACCOUNT},
            "alertmanagerSpec": {
                "storage": {"volumeClaimTemplate": _claim(1)},
                "secrets": [WEBHOOK_SECRET] if mon.receiver.kind == "webhook" else [],
                "resources": {"requests": {"cpu": "25m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}},
            },
        },
        "grafana": {
            # The generated password lives in a Secret of this program, never in the values
            "admin": {"existingSecret": GRAFANA_ADMIN_SECRET, "userKey": "admin-user", "passwordKey": "admin-password"},
            "persistence": {"enabled": True, "type": "pvc", "storageClassName": STORAGE_CLASS,
                            "size": f"{mon.grafana_storage_gib}Gi"},
            "service": {"type": "ClusterIP"},
            "sidecar": {
                "dashboards": {"enabled": True, "label": DASHBOARD_LABEL, "labelValue": "1",
                               "searchNamespace": NAMESPACE, "folderAnnotation": "grafana_folder"},
                "datasources": {"enabled": True, "uid": DATASOURCE_UID},
                "resources": {"requests": {"cpu": "10m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}},
            },
            "resources": {"requests": {"cpu": "50m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}},
            **grafana_values(front_door),
        },
        # "Nodes per node group" needs the managed node group label on kube_node_labels
        "kube-state-metrics": {"metricLabelsAllowlist": [f"nodes=[{NODE_GROUP_LABEL}]"],
                               "resources": {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}}},
        "prometheus-node-exporter": {
            "resources": {"requests": {"cpu": "20m", "memory": "32Mi"}, "limits": {"memory": "64Mi"}}},
    }
    return values  # type: ignore[return-value] - chart keys with "-" are not Python identifiers
