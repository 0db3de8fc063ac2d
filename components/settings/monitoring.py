"""Settings of the metrics stack (Prometheus, Alertmanager, Grafana) and of container logs."""

from __future__ import annotations

import re
from typing import Literal, Optional

from pydantic import Field, field_validator, model_validator

from components import images
from components.settings.workload import PinnedImage
from components.settings.errors import bad_value
from components.settings.infra import Section

# The only values CloudWatch Logs accepts for a log group's retention (PutRetentionPolicy, retentionInDays)
CLOUDWATCH_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192,
                             2557, 2922, 3288, 3653)
_PROMETHEUS_DURATION = re.compile(r"^(\d+[ywdh])+$")
_SNS_TOPIC_ARN = re.compile(r"^arn:aws(-us-gov|-cn)?:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$")
_CHART_VERSION = re.compile(r"^\d+\.\d+\.\d+$")
_KMS_KEY_ARN = re.compile(r"^arn:aws(-us-gov|-cn)?:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]{1,128}$")


WEBHOOK_URL_KEY = "alertWebhookUrl"
SET_WEBHOOK_URL = f"pulumi config set --secret {WEBHOOK_URL_KEY} https://..."


class AlertReceiver(Section):
    """Where Alertmanager sends alerts: nowhere (the Alertmanager UI only), a webhook, or an SNS topic.

    The webhook's URL usually carries a token (Slack, Teams, PagerDuty): it is the secret config
    `alertWebhookUrl`, never a plain setting."""

    kind: Literal["none", "webhook", "sns"] = "none"
    url: Optional[str] = Field(default=None, repr=False)
    """Retired: the webhook URL is the secret `alertWebhookUrl` (kept to say so, not as an unknown key)."""
    topic_arn: Optional[str] = None
    """sns: the topic ARN (Alertmanager publishes with its Pod Identity role)."""
    kms_key_arn: Optional[str] = None
    """sns: the customer managed KMS key of an encrypted topic (its publishers need GenerateDataKey* and
    Decrypt on it, SNS Developer Guide, "Key management"); unset for an unencrypted topic or AWS's own key."""

    @model_validator(mode="after")
    def _target_matches_kind(self):
        if self.url is not None:
            raise bad_value("url", "<hidden>",
                            f"unset: the webhook URL is a secret now, the secret config {WEBHOOK_URL_KEY} (it often "
                            "carries a token; rotate it if this stack file was shared)",
                            fix=f"pulumi config rm --path monitoring.receiver.url; {SET_WEBHOOK_URL}")
        if self.kind == "sns" and not _SNS_TOPIC_ARN.match(self.topic_arn or ""):
            raise bad_value("topicArn", self.topic_arn,
                            "an SNS topic ARN such as arn:aws:sns:us-east-1:123456789012:genai-alerts when kind is sns")
        if self.kind != "sns" and self.topic_arn is not None:
            raise bad_value("topicArn", self.topic_arn, "unset unless kind is sns")
        if self.kms_key_arn is not None and (self.kind != "sns" or not _KMS_KEY_ARN.match(self.kms_key_arn)):
            raise bad_value("kmsKeyArn", self.kms_key_arn, "a KMS key ARN such as arn:aws:kms:us-east-1:123456789012:"
                            "key/1234abcd-12ab-34cd-56ef-1234567890ab (not an alias), only when kind is sns")
        return self


class LogSettings(Section):
    """Container logs shipped to CloudWatch Logs by the amazon-cloudwatch-observability add-on."""

    enabled: bool = True
    retention_days: int = 14
    expected_gb_per_month: float = Field(default=5.0, ge=0, le=100_000)
    """What the cost estimate assumes is ingested (CloudWatch bills per GB ingested and stored)."""

    @field_validator("retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if value not in CLOUDWATCH_RETENTION_DAYS:
            raise bad_value((), value, "a CloudWatch Logs retention: " + ", ".join(map(str, CLOUDWATCH_RETENTION_DAYS)))
        return value


class MonitoringSettings(Section):
    """kube-prometheus-stack (pinned chart), scrape targets, dashboards, alerts, logs."""

    enabled: bool = True
    chart_version: str = images.KUBE_PROMETHEUS_STACK_CHART
    neuron_monitor_image: PinnedImage = images.NEURON_MONITOR
    retention: str = "7d"
    """How long Prometheus keeps samples (a Prometheus duration: 15d, 2w, 12h)."""
    storage_gib: int = Field(default=20, ge=5, le=16_384)
    grafana_storage_gib: int = Field(default=5, ge=1, le=1024)
    spend_budget_per_hour: float = Field(default=5.0, gt=0, le=1_000_000)
    """USD per hour across all models; the gateway's spend above it for 30 minutes raises an alert."""
    p95_latency_seconds: float = Field(default=30.0, gt=0, le=3600)
    """The gateway p95 total latency above which an alert fires."""
    error_ratio: float = Field(default=0.05, gt=0, lt=1)
    """The gateway's 5xx share of requests above which an alert fires."""
    queue_backlog: int = Field(default=10, ge=1)
    """Requests waiting in one vLLM server above which an alert fires."""
    receiver: AlertReceiver = AlertReceiver()
    logs: LogSettings = LogSettings()

    @field_validator("retention")
    @classmethod
    def _duration(cls, value: str) -> str:
        if not _PROMETHEUS_DURATION.match(value):
            raise bad_value((), value, "a Prometheus duration such as 7d, 2w or 36h")
        return value

    @field_validator("chart_version")
    @classmethod
    def _chart(cls, value) -> str:
        if not isinstance(value, str) or not _CHART_VERSION.match(value):
            raise bad_value((), value, 'an exact kube-prometheus-stack chart version in quotes, such as "85.1.2"')
        return value


def check_receiver(settings) -> None:
    """The secret webhook URL goes with `receiver.kind: webhook` (`settings` is the root `Settings`)."""
    kind, url_set = settings.monitoring.receiver.kind, settings.alert_webhook_url_set
    if kind == "webhook" and not url_set:
        raise bad_value((WEBHOOK_URL_KEY,), None, "required with monitoring.receiver.kind: webhook (the receiver's "
                        "https URL, as a secret)", fix=SET_WEBHOOK_URL)
    if kind != "webhook" and url_set:
        raise bad_value((WEBHOOK_URL_KEY,), "<hidden>", f"unset unless monitoring.receiver.kind is webhook (it is {kind})",
                        fix=f"pulumi config rm {WEBHOOK_URL_KEY}, or pulumi config set --path monitoring.receiver.kind webhook")
