"""The custom agent server (default: Open WebUI Pipelines) that Open WebUI talks to."""

from __future__ import annotations

from typing import Optional

import pulumi

from components.apps.context import AppContext
from components.apps.gateway_config import SESSION_HEADER, USER_HEADER
from components.k8s.secret import k8s_secret
from components.k8s.spec import Edge, Port, Probe, SecretRef, WorkloadSpec
from components.k8s.workload import Workload
from components.settings.apps import Resources

NAME = "custom-server"
SERVICE_PORT = 5000


class AgentServer(pulumi.ComponentResource):
    """Deployment + Service `custom-server:5000`, ServiceAccount `custom-server` (Bedrock via Pod
    Identity), a generated API key, and LiteLLM's URL and key for its own model calls."""

    api_key: pulumi.Output[str]
    """The key Open WebUI presents to this server (secret)."""
    url: str
    """In-cluster base URL."""
    container_port: int
    """The pods' port (NetworkPolicy edges name it)."""

    def __init__(self, name: str, ctx: AppContext, *, gateway_url: str, gateway_key: pulumi.Input[str],
                 opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("genai:apps:AgentServer", name, {}, opts)
        agent = ctx.settings.agent_server
        secret = k8s_secret(f"{NAME}-credentials", ctx.namespace, {
            "api-key": ctx.credentials.agent_server_api_key,
            "litellm-api-key": gateway_key,
        }, ctx.opts(self))
        ref = secret.metadata.name
        Workload(WorkloadSpec(
            name=NAME, component="agents", image=agent.image, replicas=agent.replicas,
            ports=[Port("http", agent.container_port, SERVICE_PORT)],
            args=list(agent.args) or None,
            env={
                **agent.env,
                "LITELLM_BASE_URL": gateway_url,
                # Headers its gateway calls carry for the chat and user they serve (Langfuse
                # session and user): the chat id Open WebUI sends as X-OpenWebUI-Chat-Id
                "GATEWAY_SESSION_HEADER": SESSION_HEADER,
                "GATEWAY_USER_HEADER": USER_HEADER,
                "OPENAI_API_BASE_URL": gateway_url,
                "HOME": "/tmp",
            },
            secret_env={
                agent.api_key_env: SecretRef(ref, "api-key"),
                "LITELLM_API_KEY": SecretRef(ref, "litellm-api-key"),
                "OPENAI_API_KEY": SecretRef(ref, "litellm-api-key"),
            },
            resources=Resources(cpu="250m", memory="512Mi", memory_limit="1Gi"),
            liveness=Probe(path=agent.health_path, period=15),
            readiness=Probe(path=agent.health_path, period=10),
            startup=Probe(path=agent.health_path, period=10, failures=30),
            # Pipelines keeps its pipeline files in its install directory (root-owned in the
            # image, so a writable emptyDir there for the non-root user)
            read_only_root=False,
            scratch_paths={"tmp": "/tmp", "pipelines": "/app/pipelines"},
            # Pipelines, like Open WebUI, makes its directories group-0 writable for arbitrary UIDs
            run_as_user=1000,
            run_as_group=0,
            fs_group=1000,
            service_account=NAME,
            depends_on=ctx.pod_identity_of(NAME),
            allow_from=[Edge("open-webui", agent.container_port)],
            egress_to=[Edge("litellm", 4000)],
            egress_https=True,
            egress_aws_identity=True,
        ), ctx.namespace, ctx.provider, opts=pulumi.ResourceOptions(parent=self))
        self.api_key = pulumi.Output.secret(ctx.credentials.agent_server_api_key)
        self.url = ctx.service_url(NAME, SERVICE_PORT)
        self.container_port = agent.container_port
        self.register_outputs({"api_key": self.api_key})
