"""The series the dashboards and alerts read, by their exposed names, and where each comes from.

Exposed names differ from the names in the exporters' code: prometheus_client (LiteLLM,
neuron-monitor-prometheus.py, vLLM) appends `_total` to counters, and histograms expose
`_bucket`/`_sum`/`_count`.

- LiteLLM 1.106 (`litellm/types/integrations/prometheus.py`, DEFINED_PROMETHEUS_METRICS and
  PrometheusMetricLabels): `requested_model` is the model a caller asked for, `model_group` the
  router's group, `status_code` / `exception_status` the HTTP status.
- vLLM v1 (`vllm/v1/metrics/loggers.py`, PrometheusStatLogger): labels `model_name` (the served
  model name, = the model's `name` in settings) and `engine`.
- neuron-monitor-prometheus.py (aws-neuron-sdk, shipped in the neuron-monitor image): instance
  labels (`instance_id`, `instance_type`, `availability_zone`, ...) on every series.
- kube-state-metrics (bundled with kube-prometheus-stack): `kube_node_labels` carries only the
  node labels allowed by `metricLabelsAllowlist` (see values.py), as `label_<name>`.
"""

from __future__ import annotations

# LiteLLM proxy (/metrics on port 4000)
LITELLM_REQUESTS = "litellm_proxy_total_requests_metric_total"
LITELLM_FAILED_REQUESTS = "litellm_proxy_failed_requests_metric_total"
LITELLM_TOTAL_LATENCY = "litellm_request_total_latency_metric"
LITELLM_LLM_LATENCY = "litellm_llm_api_latency_metric"
LITELLM_TTFT = "litellm_llm_api_time_to_first_token_metric"
LITELLM_INPUT_TOKENS = "litellm_input_tokens_metric_total"
LITELLM_OUTPUT_TOKENS = "litellm_output_tokens_metric_total"
LITELLM_SPEND = "litellm_spend_metric_total"
LITELLM_FALLBACKS_OK = "litellm_deployment_successful_fallbacks_total"
LITELLM_FALLBACKS_FAILED = "litellm_deployment_failed_fallbacks_total"
LITELLM_CACHE_HITS = "litellm_cache_hits_metric_total"
LITELLM_CACHE_MISSES = "litellm_cache_misses_metric_total"

# vLLM (/metrics on port 8000)
VLLM_RUNNING = "vllm:num_requests_running"
VLLM_WAITING = "vllm:num_requests_waiting"
VLLM_KV_CACHE = "vllm:kv_cache_usage_perc"
VLLM_PROMPT_TOKENS = "vllm:prompt_tokens_total"
VLLM_GENERATION_TOKENS = "vllm:generation_tokens_total"
VLLM_TTFT = "vllm:time_to_first_token_seconds"
VLLM_INTER_TOKEN = "vllm:inter_token_latency_seconds"
VLLM_E2E = "vllm:e2e_request_latency_seconds"
VLLM_QUEUE_TIME = "vllm:request_queue_time_seconds"

# neuron-monitor + neuron-monitor-prometheus.py (port 8000 on each Neuron node)
NEURON_CORE_UTILIZATION = "neuroncore_utilization_ratio"
NEURON_RUNTIME_MEMORY = "neuron_runtime_memory_used_bytes"
NEURON_EXECUTION_ERRORS = "execution_errors_total"
NEURON_ECC_EVENTS = "hardware_ecc_events_total"

# kube-state-metrics
KSM_POD_READY = "kube_pod_status_ready"
KSM_RESTARTS = "kube_pod_container_status_restarts_total"
KSM_WAITING_REASON = "kube_pod_container_status_waiting_reason"
KSM_NODE_LABELS = "kube_node_labels"
KSM_DEPLOYMENT_AVAILABLE = "kube_deployment_status_replicas_available"
KSM_DEPLOYMENT_SPEC = "kube_deployment_spec_replicas"
NODE_GROUP_LABEL = "eks.amazonaws.com/nodegroup"
NODE_GROUP_SERIES_LABEL = "label_eks_amazonaws_com_nodegroup"


def histogram(name: str) -> str:
    """The bucket series of a histogram."""
    return f"{name}_bucket"
