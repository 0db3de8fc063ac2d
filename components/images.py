"""Default container images, pinned; every one can be overridden from stack config."""

VLLM_NEURON = "public.ecr.aws/neuron/pytorch-inference-vllm-neuronx:0.16.0-neuronx-py312-sdk2.31.1-ubuntu24.04"  # team-checked; digest-pinned in public Trn1 repos 2026-10
NEURON_DEVICE_PLUGIN = "public.ecr.aws/neuron/neuron-device-plugin:2.29.149.0"  # team-checked; not found in public sources (2.29.16.0/2.29.94.0 are)
LITELLM = "ghcr.io/berriai/litellm-database:v1.106.12"  # LiteLLM v1.106.12 release notes (cosign tag, same for -database); no -stable suffix since ~v1.99
LANGFUSE_WEB = "docker.io/langfuse/langfuse:4.52.0"  # Langfuse v4.52.0 (2026-10-06), pulled by digest in public pins
LANGFUSE_WORKER = "docker.io/langfuse/langfuse-worker:4.52.0"  # same release as LANGFUSE_WEB
CLICKHOUSE = "docker.io/clickhouse/clickhouse-server:26.4.5.143"  # 26.4 is the Langfuse chart 2.x default; full tag in Langfuse v4 stacks
POSTGRES = "docker.io/pgvector/pgvector:0.8.7-pg17"  # pgvector CHANGELOG 0.8.7 (2026-10-01); <ver>-pg<major> tag format
REDIS = "docker.io/library/redis:8.10.2"  # Redis 8.10.2 release notes (2026-09-17, security); 8.2.2 lacks CVE-2025-62507 fix
OPEN_WEBUI = "ghcr.io/open-webui/open-webui:v0.12.4"  # newest release (PyPI open-webui 0.12.4); docker-build.yaml tags v* releases
PIPELINES = "ghcr.io/open-webui/pipelines:git-039f9c5"  # no version tags, only main/latest/git-<sha> (docker-build.yaml); main HEAD since 2025-08
NEURON_MONITOR = "public.ecr.aws/neuron/neuron-monitor:1.3.0"  # Neuron operator docs' nodeMetricsImage; bundles neuron-monitor-prometheus.py
KUBE_PROMETHEUS_STACK_CHART = "85.1.2"  # prometheus-community/helm-charts release kube-prometheus-stack-85.1.2 (2026)
