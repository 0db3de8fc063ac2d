"""Stand-in /metrics endpoints for what cannot run here: vLLM on Neuron, neuron-monitor, kube-state-metrics.

Each serves, through prometheus_client (what vLLM and neuron-monitor-prometheus.py use themselves),
the documented series with their documented labels (sources in components/monitoring/metrics.py),
and `tick()` moves them the way traffic would, so rates and quantiles have something to show.

They answer in the classic text format only, which is what the program's PodMonitors ask vLLM and
neuron-monitor for (`scrapeProtocols: [PrometheusText0.0.4]`, components/monitoring/scrape.py):
prometheus_client's OpenMetrics 1.0.0 output with the default `underscores` escaping writes
`vllm:num_requests_running` samples as `vllm_num_requests_running` (the sample name is escaped with
the label-name rule), which a Prometheus negotiating OpenMetrics (this test's 2.42 cannot be told
otherwise) would store under the wrong name.
"""

from __future__ import annotations

import contextlib
import random
import threading
from collections.abc import Iterator
from typing import Any

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from components.monitoring import metrics as m

LATENCY_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0)


def _base(name: str) -> str:
    """prometheus_client adds `_total` to counters itself."""
    return name[: -len("_total")] if name.endswith("_total") else name


class Exporter:
    """One registry served on a loopback port."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.server: Any = None

    def start(self) -> Exporter:
        registry = self.registry

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                body = generate_latest(registry)
                self.send_response(200)
                self.send_header("Content-Type", CONTENT_TYPE_LATEST)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server.server_port}"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def tick(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


class VllmExporter(Exporter):
    """vLLM v1's PrometheusStatLogger series for one served model (labels model_name, engine)."""

    def __init__(self, model_name: str) -> None:
        super().__init__()
        labels, r = ["model_name", "engine"], self.registry
        self.values = [model_name, "0"]
        self.running = Gauge(m.VLLM_RUNNING, "Number of requests in model execution batches.", labels, registry=r)
        self.waiting = Gauge(m.VLLM_WAITING, "Number of requests waiting to be processed.", labels, registry=r)
        self.kv = Gauge(m.VLLM_KV_CACHE, "KV-cache usage. 1 means 100 percent usage.", labels, registry=r)
        self.prompt = Counter(_base(m.VLLM_PROMPT_TOKENS), "Number of prefill tokens processed.", labels, registry=r)
        self.generation = Counter(_base(m.VLLM_GENERATION_TOKENS), "Number of generation tokens processed.", labels,
                                  registry=r)
        self.histograms = [Histogram(name, name, labels, buckets=LATENCY_BUCKETS, registry=r)
                           for name in (m.VLLM_TTFT, m.VLLM_INTER_TOKEN, m.VLLM_E2E, m.VLLM_QUEUE_TIME)]

    def tick(self) -> None:
        v = self.values
        self.running.labels(*v).set(random.randint(1, 4))
        self.waiting.labels(*v).set(random.randint(0, 3))
        self.kv.labels(*v).set(random.random())
        self.prompt.labels(*v).inc(random.randint(20, 200))
        self.generation.labels(*v).inc(random.randint(10, 100))
        for histogram in self.histograms:
            histogram.labels(*v).observe(random.uniform(0.02, 3.0))


class NeuronMonitorExporter(Exporter):
    """neuron-monitor-prometheus.py's series for one inf2.xlarge (2 NeuronCores, 1 device)."""

    def __init__(self, instance_id: str = "i-0123456789abcdef0") -> None:
        super().__init__()
        r = self.registry
        self.instance = {"instance_name": "", "instance_id": instance_id, "instance_type": "inf2.xlarge",
                         "availability_zone": "us-east-1a", "region": "us-east-1", "subnet_id": "subnet-0abc1234"}
        runtime = {**self.instance, "runtime_tag": "1234"}
        self.runtime = runtime
        self.util = Gauge(m.NEURON_CORE_UTILIZATION, "NeuronCore utilization ratio", [*runtime, "neuroncore"], registry=r)
        self.memory = Gauge(m.NEURON_RUNTIME_MEMORY, "Runtime memory used bytes", [*runtime, "memory_location"], registry=r)
        self.errors = Counter(_base(m.NEURON_EXECUTION_ERRORS), "Execution errors total", [*runtime, "error_type"],
                              registry=r)
        self.ecc = Counter(_base(m.NEURON_ECC_EVENTS), "Hardware ecc events total",
                           [*self.instance, "event_type", "neuron_device_index"], registry=r)

    def tick(self) -> None:
        for core in ("0", "1"):
            self.util.labels(**self.runtime, neuroncore=core).set(random.random())
        for location in ("host", "neuron_device"):
            self.memory.labels(**self.runtime, memory_location=location).set(random.randint(10**8, 10**9))
        for error_type in ("generic", "numerical", "transient", "model", "runtime", "hardware"):
            self.errors.labels(**self.runtime, error_type=error_type).inc(0)
        for event in ("mem_ecc_corrected", "mem_ecc_uncorrected", "sram_ecc_corrected", "sram_ecc_uncorrected"):
            self.ecc.labels(**self.instance, event_type=event, neuron_device_index="0").inc(0)


class KubeStateMetricsExporter(Exporter):
    """kube-state-metrics series for the rendered genai Deployments and two managed node groups."""

    def __init__(self, deployments: list[str], node_groups: list[str]) -> None:
        super().__init__()
        r = self.registry
        self.deployments, self.node_groups = deployments, node_groups
        self.ready = Gauge(m.KSM_POD_READY, "pod ready", ["namespace", "pod", "uid", "condition"], registry=r)
        self.restarts = Counter(_base(m.KSM_RESTARTS), "restarts", ["namespace", "pod", "uid", "container"], registry=r)
        self.waiting = Gauge(m.KSM_WAITING_REASON, "waiting", ["namespace", "pod", "uid", "container", "reason"], registry=r)
        self.nodes = Gauge(m.KSM_NODE_LABELS, "node labels", ["node", m.NODE_GROUP_SERIES_LABEL], registry=r)
        self.available = Gauge(m.KSM_DEPLOYMENT_AVAILABLE, "available", ["namespace", "deployment"], registry=r)
        self.spec = Gauge(m.KSM_DEPLOYMENT_SPEC, "spec", ["namespace", "deployment"], registry=r)

    def tick(self) -> None:
        for i, deployment in enumerate(self.deployments):
            pod, uid = f"{deployment}-5d8f7-abc{i}", f"uid-{i}"
            for condition, value in (("true", 1), ("false", 0), ("unknown", 0)):
                self.ready.labels("genai", pod, uid, condition).set(value)
            self.restarts.labels("genai", pod, uid, deployment).inc(0)
            self.waiting.labels("genai", pod, uid, deployment, "CrashLoopBackOff").set(0)
            self.spec.labels("genai", deployment).set(1)
            self.available.labels("genai", deployment).set(1)
        for group in self.node_groups:
            for n in range(2):
                self.nodes.labels(f"ip-10-10-{len(group)}-{n}.ec2.internal", group).set(1)


@contextlib.contextmanager
def traffic(exporters: list[Exporter], interval: float = 0.3) -> Iterator[None]:
    """Tick every exporter in the background while the block runs."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            for exporter in exporters:
                exporter.tick()
            stop.wait(interval)

    for exporter in exporters:
        exporter.tick()
    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)
