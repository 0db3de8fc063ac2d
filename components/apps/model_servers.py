"""vLLM on Neuron: one Deployment + Service per self-hosted model in settings."""

from __future__ import annotations

from typing import Optional

import pulumi

from pulumi_kubernetes.core.v1 import ConfigMap

from components import catalog
from components.apps.context import AppContext, read_file
from components.k8s.secret import k8s_secret
from components.k8s.spec import Edge, FileMount, Port, Probe, SecretRef, Volume, WorkloadSpec
from components.k8s.workload import Workload
from components.settings.apps import SelfHostedModel

VLLM_PORT = 8000
CACHE = "/cache"
ENTRY_DIR = "/opt/genai"
ENTRY_SCRIPT = "neuron_cache_entry.py"
# Cluster Autoscaler never drains a node for a pod with this annotation: a busy Neuron node stays
# (kubernetes/autoscaler FAQ, "What types of pods can prevent CA from removing a node?")
SAFE_TO_EVICT = {"cluster-autoscaler.kubernetes.io/safe-to-evict": "false"}


def compiled_dir(model: SelfHostedModel) -> str:
    """Where the model's compiled Neuron artifacts live (published there on the shared cache)."""
    return f"{CACHE}/neuron-compiled/{model.slug}"


def serve_command(model: SelfHostedModel, shared: bool) -> tuple[list[str], list[str]]:
    """(command, args): `vllm serve`, wrapped on the shared cache by the compile-once entrypoint."""
    if not shared:
        return ["vllm", "serve"], vllm_args(model)
    ready = f"http://127.0.0.1:{VLLM_PORT}/v1/models"
    return ["python3", f"{ENTRY_DIR}/{ENTRY_SCRIPT}"], [compiled_dir(model), ready, "--", "vllm", "serve", *vllm_args(model)]


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


def model_server_spec(model: SelfHostedModel, hf_secret: Optional[pulumi.Input[str]],
                      shared_claim: Optional[pulumi.Input[str]] = None,
                      entry_config_map: Optional[pulumi.Input[str]] = None) -> WorkloadSpec:
    """The Deployment of one model: Neuron cores, the taint toleration, the model cache (the shared
    ReadWriteMany claim, or a ReadWriteOnce volume of its own), replicas (KEDA's when they vary)."""
    cores = str(model.neuron_cores)
    shared = shared_claim is not None
    command, args = serve_command(model, shared)
    # Compiled Neuron artifacts are loaded from here if present, else compiled and saved; on the
    # shared cache the entrypoint sets it (a private directory while compiling, then the published one)
    artifacts = {} if shared else {"NEURON_COMPILED_ARTIFACTS": compiled_dir(model)}
    return WorkloadSpec(
        name=model.service_name,
        component="model-server",
        image=model.image,
        replicas=None if model.autoscaled else model.max_replicas,
        ports=[Port("http", VLLM_PORT)],
        command=command,
        args=args,
        env={
            **artifacts,
            # The Neuron compiler's own cache defaults to /var/tmp/neuron-compile-cache, which the
            # read-only root filesystem refuses; NEURON_COMPILE_CACHE_URL (a path or s3://) moves it
            # (Neuron docs, "Neuron Persistent Cache"): here onto the persistent cache volume.
            # On the shared cache: one directory per model, written only by the replica that holds the
            # model's compile lock (whether the persistent cache is safe under concurrent writers is
            # not documented, so no two processes ever write one directory at once)
            "NEURON_COMPILE_CACHE_URL": f"{CACHE}/neuron-compile-cache" + (f"/{model.slug}" if shared else ""),
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
        volumes=[Volume("cache", CACHE, model.cache_gib, claim=shared_claim)],
        files=[FileMount("entry", ENTRY_DIR, config_map=entry_config_map, mode=0o444)] if shared else [],
        pod_annotations=dict(SAFE_TO_EVICT),
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
    """vLLM model servers on the Neuron node group, with the HF token from secret config and, when
    `shared_claim` is given, the shared model cache with the compile-once entrypoint."""

    def __init__(self, name: str, ctx: AppContext, hf_token: Optional[pulumi.Input[str]],
                 opts: Optional[pulumi.ResourceOptions] = None,
                 shared_claim: Optional[pulumi.Input[str]] = None) -> None:
        super().__init__("genai:apps:ModelServers", name, {}, opts)
        hf_secret = None
        if hf_token is not None:
            hf_secret = k8s_secret("huggingface-token", ctx.namespace, {"token": hf_token}, ctx.opts(self)).metadata.name
        entry = None
        if shared_claim is not None:
            entry = ConfigMap(
                "model-cache-entry",
                metadata={"name": "model-cache-entry", "namespace": ctx.namespace},
                data={ENTRY_SCRIPT: read_file(ENTRY_SCRIPT)},
                opts=ctx.opts(self),
            ).metadata.name
        self.workloads = [
            Workload(model_server_spec(model, hf_secret if model.gated or hf_token is not None else None,
                                       shared_claim, entry),
                     ctx.namespace, ctx.provider, opts=pulumi.ResourceOptions(parent=self),
                     retention=ctx.settings.retention)
            for model in ctx.settings.models
        ]
        self.register_outputs({})
