"""Default container images, pinned; every one can be overridden from stack config."""

VLLM_NEURON = "public.ecr.aws/neuron/pytorch-inference-vllm-neuronx:0.16.0-neuronx-py312-sdk2.31.1-ubuntu24.04"  # team-checked; digest-pinned in public Trn1 repos 2026-10
NEURON_DEVICE_PLUGIN = "public.ecr.aws/neuron/neuron-device-plugin:2.31.0.0"  # see NEURON_DEVICE_PLUGIN_EVIDENCE
LITELLM = "ghcr.io/berriai/litellm-database:v1.106.12"  # LiteLLM v1.106.12 release notes (cosign tag, same for -database); no -stable suffix since ~v1.99
LANGFUSE_WEB = "docker.io/langfuse/langfuse:4.52.0"  # Langfuse v4.52.0 (2026-10-06), pulled by digest in public pins
LANGFUSE_WORKER = "docker.io/langfuse/langfuse-worker:4.52.0"  # same release as LANGFUSE_WEB
CLICKHOUSE = "docker.io/clickhouse/clickhouse-server:26.4.5.143"  # 26.4 is the Langfuse chart 2.x default; full tag in Langfuse v4 stacks
POSTGRES = "docker.io/pgvector/pgvector:0.8.7-pg17"  # pgvector CHANGELOG 0.8.7 (2026-10-01); <ver>-pg<major> tag format
REDIS = "docker.io/library/redis:8.10.2"  # Redis 8.10.2 release notes (2026-09-17, security); 8.2.2 lacks CVE-2025-62507 fix
OPEN_WEBUI = "ghcr.io/open-webui/open-webui:v0.12.4"  # newest release (PyPI open-webui 0.12.4); docker-build.yaml tags v* releases
NEURON_MONITOR = "public.ecr.aws/neuron/neuron-monitor:1.3.0"  # Neuron operator docs' nodeMetricsImage; bundles neuron-monitor-prometheus.py
KUBE_PROMETHEUS_STACK_CHART = "85.1.2"  # prometheus-community/helm-charts release kube-prometheus-stack-85.1.2 (2026)

# Device plugin tags with public evidence that they exist: tag -> (Neuron SDK release it ships
# with, or None if unknown; where it is published or pulled). A tag that does not exist leaves every
# Neuron node without NeuronCores and every model Pending (hidden by skipAwait), so the pinned tag
# must be one of these, from the SDK release of VLLM_NEURON (tests/test_images.py checks both).
# Add a row, with its source, before pinning another tag.
NEURON_DEVICE_PLUGIN_EVIDENCE: dict[str, tuple[str | None, str]] = {
    "2.32.0.0": (None, "neuron-helm-chart 1.10.0 default (aws-neuron/neuron-helm-charts release 1.10.0, 2026-08-19); "
                         "pulled on an EKS inf2 node in a public Korean lab write-up (2026-09)"),
    "2.31.0.0": ("2.31", "github.com/aws-neuron/neuron-helm-charts/releases/tag/1.9.0: 'Neuron Helm Chart 1.9.0 "
                         "(Neuron SDK 2.31.0)', component image tags: Neuron Device Plugin 2.31.0.0"),
    "2.29.94.0": (None, "eco-gotests hw-accel Neuron README example ECO_HWACCEL_NEURON_DEVICE_PLUGIN_IMAGE"),
    "2.29.16.0": (None, "ai-operator-on-aws OpenShift DeviceConfig samples (devicePluginImage)"),
    "2.28.27.0": (None, "aws-neuron/neuron-helm-charts charts/neuron-helm-chart/values.yaml devicePlugin.image.tag"),
}
