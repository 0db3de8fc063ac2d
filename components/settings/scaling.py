"""Settings for serving at scale: the shared model cache, the Neuron node autoscaler and the
model-server autoscaler (KEDA on vLLM's queue depth)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from components.settings.errors import bad_value
from components.settings.infra import Section

# Pinned Helm charts (a stack may pin another version through the settings)
# kubernetes/autoscaler tag cluster-autoscaler-chart-9.59.0: Chart.yaml appVersion 1.35.0 (the EKS version)
CLUSTER_AUTOSCALER_CHART = "9.59.0"
# kedacore/charts tag v2.20.2: keda/Chart.yaml version = appVersion 2.20.2, kubeVersion >=v1.23.0-0
KEDA_CHART = "2.20.2"
# The Prometheus that the ScaledObjects query: kube-prometheus-stack's server as the metrics
# workstream installs it (release fullnameOverride `kps` in namespace `monitoring`; the chart names
# the Service `<fullname>-prometheus`, port 9090). ONE place to change if that moves.
PROMETHEUS_URL = "http://kps-prometheus.monitoring.svc.cluster.local:9090"

_CHART_VERSION = re.compile(r"^\d+\.\d+\.\d+$")


class ModelCacheSettings(Section):
    """Where model servers keep weights and compiled Neuron artifacts.

    `efs` (default): one encrypted EFS file system, ReadWriteMany, mount targets in every private
    subnet: every replica in every AZ reads what the first one compiled. `ebs`: the older
    ReadWriteOnce gp3 volume per model - one replica per model, the Neuron group in one AZ."""

    kind: Literal["efs", "ebs"] = "efs"
    throughput_mode: Literal["elastic", "bursting"] = "elastic"


class NeuronAutoscalerSettings(Section):
    """Cluster Autoscaler for the Neuron managed node group (scales from 0 and back to 0)."""

    enabled: bool = True
    # Empty (no model server) Neuron nodes are removed after this long (--scale-down-unneeded-time)
    scale_down_idle_minutes: int = Field(default=10, ge=1, le=1440)
    chart_version: str = CLUSTER_AUTOSCALER_CHART

    @field_validator("chart_version")
    @classmethod
    def _chart(cls, value: str) -> str:
        if not _CHART_VERSION.match(value):
            raise bad_value((), value, "an exact chart version such as 9.59.0 (ranges and 'latest' are not pinned)")
        return value


class ModelAutoscalingSettings(Section):
    """KEDA: per model ScaledObjects on `vllm:num_requests_waiting` from Prometheus."""

    prometheus_url: str = PROMETHEUS_URL
    polling_seconds: int = Field(default=15, ge=5, le=300)
    chart_version: str = KEDA_CHART

    @field_validator("prometheus_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.fullmatch(r"https?://[a-z0-9.-]+(:\d+)?(/[\w./-]*)?", value):
            raise bad_value((), value, "an http(s) URL of the Prometheus server, such as " + PROMETHEUS_URL)
        return value

    @field_validator("chart_version")
    @classmethod
    def _chart(cls, value: str) -> str:
        if not _CHART_VERSION.match(value):
            raise bad_value((), value, "an exact chart version such as 2.20.2 (ranges and 'latest' are not pinned)")
        return value
