"""neuron-monitor with its Prometheus exporter, one pod per Neuron node.

Shape from the Neuron docs' DaemonSet (aws-neuron-sdk `src/k8/k8s-neuron-monitor-daemonset.yml`):
the image's `/opt/bin/entrypoint.sh --port 8000` runs neuron-monitor piped into
neuron-monitor-prometheus.py; the container must be privileged to read the Neuron devices
(requesting `aws.amazon.com/neuron` instead would take the devices away from vLLM).
"""

from __future__ import annotations

from typing import Any

from components import catalog
from components.k8s.spec import APP_LABEL, PART_OF
from components.monitoring.scrape import NEURON_MONITOR_PORT, NEURON_MONITOR_PORT_NAME

NAME = "neuron-monitor"
NAMESPACE = "kube-system"


def daemonset_spec(image: str) -> dict[str, Any]:
    """The DaemonSet spec: Neuron nodes only (label + taint toleration), small fixed resources."""
    labels = {APP_LABEL: NAME, "app.kubernetes.io/component": "metrics-exporter", **PART_OF}
    probe = {"httpGet": {"path": "/metrics", "port": NEURON_MONITOR_PORT_NAME}, "periodSeconds": 30,
             "timeoutSeconds": 5, "failureThreshold": 3}
    return {
        "selector": {"matchLabels": {APP_LABEL: NAME}},
        "updateStrategy": {"type": "RollingUpdate"},
        "template": {
            "metadata": {"labels": labels},
            "spec": {
                "automountServiceAccountToken": False,
                "nodeSelector": {catalog.NEURON_NODE_LABEL: catalog.NEURON_NODE_LABEL_VALUE},
                "tolerations": [{"key": catalog.NEURON_TAINT_KEY, "operator": "Exists", "effect": "NoSchedule"}],
                "priorityClassName": "system-node-critical",
                "containers": [{
                    "name": NAME,
                    "image": image,
                    "imagePullPolicy": "IfNotPresent",
                    "command": ["/opt/bin/entrypoint.sh"],
                    "args": ["--port", str(NEURON_MONITOR_PORT)],
                    "ports": [{"name": NEURON_MONITOR_PORT_NAME, "containerPort": NEURON_MONITOR_PORT, "protocol": "TCP"}],
                    # The Neuron docs' DaemonSet caps the Go runtime below the memory limit
                    "env": [{"name": "GOMEMLIMIT", "value": "160MiB"}],
                    "resources": {"requests": {"cpu": "250m", "memory": "128Mi"},
                                  "limits": {"cpu": "500m", "memory": "256Mi"}},
                    "livenessProbe": probe,
                    "readinessProbe": {**probe, "periodSeconds": 10},
                    "securityContext": {"privileged": True},
                }],
            },
        },
    }
