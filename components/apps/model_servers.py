"""vLLM on Neuron: one Deployment + Service per self-hosted model in settings."""

from __future__ import annotations

from typing import Optional

import pulumi

from components import catalog
from components.apps.context import AppContext
from components.k8s.secret import k8s_secret
from components.k8s.spec import Edge, Port, Probe, SecretRef, Volume, WorkloadSpec
from components.k8s.workload import Workload
from components.settings.apps import SelfHostedModel

VLLM_PORT = 8000
CACHE = "/cache"


def vllm_args(model: SelfHostedModel) -> list[str]:
    """`vllm serve` flags: tensor parallel = NeuronCores requested, the block-override rule."""
    return [
        model.hf_model_id,
        "--served-model-name", model.name,
        "--host", "0.0.0.0",
        "--port", str(VLLM_PORT),
        "--tensor-parallel-size", str(model.neuron_cores),
        "--max-model-len", str(model.max_model_len),
        "--max-num-seqs", str(model.max_num_seqs),
        "--block-size", str(model.block_size),
        "--num-gpu-blocks-override", str(model.num_gpu_blocks_override),
        "--no-enable-prefix-caching",
    ]


def model_server_spec(model: SelfHostedModel, hf_secret: Optional[pulumi.Input[str]]) -> WorkloadSpec:
    """The Deployment of one model: Neuron cores, the taint toleration, a persistent cache."""
    cores = str(model.neuron_cores)
    return WorkloadSpec(
        name=model.service_name,
        component="model-server",
        image=model.image,
        replicas=model.replicas,
        ports=[Port("http", VLLM_PORT)],
        command=["vllm", "serve"],
        args=vllm_args(model),
        env={
            # Compiled Neuron artifacts are loaded from here if present, else compiled and saved
            "NEURON_COMPILED_ARTIFACTS": f"{CACHE}/neuron-compiled/{model.slug}",
            # The Neuron compiler's own cache defaults to /var/tmp/neuron-compile-cache, which the
            # read-only root filesystem refuses; NEURON_COMPILE_CACHE_URL (a path or s3://) moves it
            # (Neuron docs, "Neuron Persistent Cache"): here onto the persistent cache volume.
            # A later issue moves the caches to a shared (RWX / S3) store for scale-out.
            "NEURON_COMPILE_CACHE_URL": f"{CACHE}/neuron-compile-cache",
            "HF_HOME": f"{CACHE}/huggingface",
            "HOME": "/tmp",
            "XDG_CACHE_HOME": "/tmp/.cache",
        },
        secret_env={"HF_TOKEN": SecretRef(hf_secret, "token")} if hf_secret is not None else {},
        resources=model.resources,
        extra_resources={catalog.NEURON_CORE_RESOURCE: cores},
        liveness=Probe(path="/health", period=20, failures=3),
        readiness=Probe(path="/v1/models", period=10),
        # Download + Neuron compilation can take many minutes on the first start
        startup=Probe(path="/v1/models", period=30, failures=120),
        volumes=[Volume("cache", CACHE, model.cache_gib)],
        scratch_paths={"tmp": "/tmp"},
        memory_scratch_paths={"shm": "/dev/shm"},
        node_selector={catalog.NEURON_NODE_LABEL: catalog.NEURON_NODE_LABEL_VALUE},
        tolerations=[{"key": catalog.NEURON_TAINT_KEY, "operator": "Exists", "effect": "NoSchedule"}],
        allow_from=[Edge("litellm", VLLM_PORT)],
        metrics_port=VLLM_PORT,
        egress_https=True,
        # The Neuron group may idle at 0 nodes and compiling outlasts Pulumi's await timeout
        annotations={"pulumi.com/skipAwait": "true"},
        termination_grace_seconds=60,
    )


class ModelServers(pulumi.ComponentResource):
    """vLLM model servers on the Neuron node group, with the HF token from secret config."""

    def __init__(self, name: str, ctx: AppContext, hf_token: Optional[pulumi.Input[str]],
                 opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("genai:apps:ModelServers", name, {}, opts)
        hf_secret = None
        if hf_token is not None:
            hf_secret = k8s_secret("huggingface-token", ctx.namespace, {"token": hf_token}, ctx.opts(self)).metadata.name
        for model in ctx.settings.models:
            Workload(model_server_spec(model, hf_secret if model.gated or hf_token is not None else None),
                     ctx.namespace, ctx.provider, opts=pulumi.ResourceOptions(parent=self), retention=ctx.settings.retention)
        self.register_outputs({})
