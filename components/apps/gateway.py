"""LiteLLM, the OpenAI-compatible gateway in front of vLLM and Bedrock."""

from __future__ import annotations

import hashlib
from typing import Optional

import pulumi
from pulumi_kubernetes.core.v1 import ConfigMap

from components.apps.context import AppContext
from components.apps.datastores import POSTGRES_PORT, REDIS_PORT, database_url
from components.apps.gateway_config import VLLM_PORT, render_gateway_config
from components.k8s.autoscaler import cpu_autoscaler
from components.k8s.secret import k8s_secret
from components.k8s.spec import Edge, FileMount, Port, Probe, SecretRef, WorkloadSpec
from components.k8s.workload import Workload

NAME = "litellm"
PORT = 4000
LANGFUSE_WEB_PORT = 3000
CONFIG_PATH = "/app/config.yaml"


class Gateway(pulumi.ComponentResource):
    """Deployment + Service `litellm:4000`, ServiceAccount `litellm` (Bedrock through EKS Pod
    Identity: no AWS keys anywhere), config.yaml from a ConfigMap, credentials from a Secret,
    and an HPA."""

    master_key: pulumi.Output[str]
    """The master key (secret): administrators only, never given to a client."""
    url: str
    """In-cluster OpenAI-compatible base URL."""
    credentials_secret: pulumi.Output[str]
    """The Secret holding the master key (read by the gateway and the key Job only)."""

    def __init__(self, name: str, ctx: AppContext, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("genai:apps:Gateway", name, {}, opts)
        settings, creds, ns = ctx.settings, ctx.credentials, ctx.namespace_name
        gateway = settings.gateway
        k8s_opts = ctx.opts(self)

        config_yaml = render_gateway_config(settings, ns)
        config = ConfigMap(
            f"{NAME}-config", metadata={"name": f"{NAME}-config", "namespace": ctx.namespace},
            data={"config.yaml": config_yaml}, opts=k8s_opts,
        )
        secret = k8s_secret(f"{NAME}-credentials", ctx.namespace, {
            "master-key": creds.litellm_master_key,
            "salt-key": creds.litellm_salt_key,
            "database-url": database_url("litellm", creds.database_passwords["litellm"], ns),
            "redis-password": creds.cache_redis_password,
            "langfuse-public-key": creds.langfuse_public_key,
            "langfuse-secret-key": creds.langfuse_secret_key,
        }, k8s_opts)
        ref = secret.metadata.name

        autoscaling = gateway.autoscaling
        workload = Workload(WorkloadSpec(
            name=NAME,
            component="gateway",
            image=gateway.image,
            # With an HPA the autoscaler owns the replica count
            replicas=None if autoscaling else gateway.replicas,
            ports=[Port("http", PORT)],
            args=["--config", CONFIG_PATH, "--port", str(PORT), "--num_workers", "1"],
            env={
                "LANGFUSE_HOST": ctx.service_url("langfuse", LANGFUSE_WEB_PORT),
                "REDIS_HOST": f"cache-redis.{ns}.svc.cluster.local",
                "REDIS_PORT": str(REDIS_PORT),
                "AWS_REGION": settings.region,
                # Use the bundled model cost map: startup never depends on a download
                "LITELLM_LOCAL_MODEL_COST_MAP": "True",
                "LITELLM_MIGRATION_DIR": "/tmp/migrations",
                # Every call is traced in Langfuse; per-request INFO logs would only add latency
                "LITELLM_LOG": "WARNING",
                "HOME": "/tmp",
            },
            secret_env={
                "LITELLM_MASTER_KEY": SecretRef(ref, "master-key"),
                "LITELLM_SALT_KEY": SecretRef(ref, "salt-key"),
                "DATABASE_URL": SecretRef(ref, "database-url"),
                "REDIS_PASSWORD": SecretRef(ref, "redis-password"),
                "LANGFUSE_PUBLIC_KEY": SecretRef(ref, "langfuse-public-key"),
                "LANGFUSE_SECRET_KEY": SecretRef(ref, "langfuse-secret-key"),
            },
            files=[FileMount("config", CONFIG_PATH, config_map=config.metadata.name, sub_path="config.yaml", mode=0o444)],
            # Roll the pods when the rendered config changes
            pod_annotations={"genai-platform/config-sha256": hashlib.sha256(config_yaml.encode()).hexdigest()},
            resources=gateway.resources,
            liveness=Probe(path="/health/liveliness", period=15),
            readiness=Probe(path="/health/readiness", period=10),
            startup=Probe(path="/health/liveliness", period=10, failures=30),
            scratch_paths={"tmp": "/tmp"},
            # Any uid works: since v1.90.6 the image bakes the prisma engines at /opt/prisma, so
            # start-up migrations run offline as a non-root user (LiteLLM v1.90.6 release notes)
            run_as_user=65532,
            service_account="litellm",
            depends_on=ctx.pod_identity_of("litellm"),
            allow_from=[Edge("open-webui", PORT), Edge("custom-server", PORT), Edge("litellm-keys", PORT)],
            allow_from_cidrs=ctx.alb_sources(NAME),  # the front door's api host, when configured
            metrics_port=PORT,
            egress_to=[Edge("postgres", POSTGRES_PORT), Edge("cache-redis", REDIS_PORT),
                       Edge("langfuse", LANGFUSE_WEB_PORT)]
            + [Edge(m.service_name, VLLM_PORT) for m in settings.models],
            egress_https=True,
            egress_aws_identity=True,
        ), ctx.namespace, ctx.provider, opts=pulumi.ResourceOptions(parent=self))

        self.workload = workload
        if autoscaling:
            cpu_autoscaler(NAME, ctx.namespace, autoscaling, parent=self, provider=ctx.provider, workload=workload)
        self.master_key = pulumi.Output.secret(creds.litellm_master_key)
        self.url = ctx.service_url(NAME, PORT, path="/v1")
        self.credentials_secret = ref
        self.register_outputs({"master_key": self.master_key})
