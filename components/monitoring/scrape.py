"""What Prometheus scrapes besides the chart's own targets: the gateway, every vLLM server, neuron-monitor.

The specs are prometheus-operator ServiceMonitor/PodMonitor specs; the loopback test
(tests/test_monitoring_live.py) generates its plain Prometheus scrape config from the same targets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components.k8s.spec import APP_LABEL

INTERVAL = "30s"
GATEWAY_PORT_NAME = "http"
VLLM_PORT_NAME = "http"
NEURON_MONITOR_PORT_NAME = "metrics"
NEURON_MONITOR_PORT = 8000


@dataclass(frozen=True)
class ScrapeTarget:
    """One monitor: which pods (by label, in a namespace), which named port and path."""

    name: str
    kind: str  # "ServiceMonitor" or "PodMonitor"
    namespace: str
    selector: dict[str, str]
    port: str
    path: str
    text_format: bool = False
    """Ask for the classic text format only: prometheus_client's OpenMetrics output (vLLM,
    neuron-monitor) rewrites `vllm:` names as `vllm_` unless the scraper accepts UTF-8 names."""

    def spec(self) -> dict[str, Any]:
        endpoint = {"port": self.port, "path": self.path, "interval": INTERVAL, "scheme": "http"}
        key = "endpoints" if self.kind == "ServiceMonitor" else "podMetricsEndpoints"
        return {
            **({"scrapeProtocols": ["PrometheusText0.0.4"]} if self.text_format else {}),
            "selector": {"matchLabels": self.selector},
            "namespaceSelector": {"matchNames": [self.namespace]},
            key: [{**endpoint, "relabelings": [
                # The node a sample comes from, for the Neuron and model-server panels
                {"sourceLabels": ["__meta_kubernetes_pod_node_name"], "targetLabel": "node"},
            ]}],
        }


def targets(platform_namespace: str, node_agents_namespace: str = "kube-system") -> list[ScrapeTarget]:
    """The platform's scrape targets."""
    return [
        # LiteLLM serves /metrics unauthenticated only with require_auth_for_metrics_endpoint: false
        # (gateway_config.py); /metrics redirects to /metrics/ (a mounted ASGI app).
        ScrapeTarget("litellm", "ServiceMonitor", platform_namespace, {APP_LABEL: "litellm"}, GATEWAY_PORT_NAME,
                     "/metrics/"),
        # Every model server, whatever the model list: PodMonitor on the component label
        ScrapeTarget("vllm", "PodMonitor", platform_namespace, {"app.kubernetes.io/component": "model-server"},
                     VLLM_PORT_NAME, "/metrics", text_format=True),
        ScrapeTarget("neuron-monitor", "PodMonitor", node_agents_namespace, {APP_LABEL: "neuron-monitor"},
                     NEURON_MONITOR_PORT_NAME, "/metrics", text_format=True),
    ]
