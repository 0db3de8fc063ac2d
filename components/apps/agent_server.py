"""The platform's own agent server (agent_server/), which Open WebUI lists as models."""

from __future__ import annotations

from typing import Optional

import pulumi

from components.apps.agent_image import AgentImage
from components.apps.context import AppContext
from components.apps.datastores import POSTGRES_PORT, database_url
from components.apps.gateway_config import SESSION_HEADER, USER_HEADER
from components.apps.langfuse import WEB_PORT as LANGFUSE_WEB_PORT
from components.k8s.autoscaler import cpu_autoscaler
from components.k8s.secret import k8s_secret
from components.k8s.spec import Edge, Port, Probe, SecretRef, WorkloadSpec
from components.k8s.workload import Workload

NAME = "custom-server"
PORT = 5000  # the server's default PORT and the seed's Service port
GATEWAY_PORT = 4000
DATABASE = "agentserver"  # role and database made by files/postgres-init.sh


class AgentServer(pulumi.ComponentResource):
    """Deployment + Service `custom-server:5000` (2 replicas by default, HPA on CPU, PDB), its
    image (built into the stack's ECR repository unless `agentServer.image` is set), a generated
    API key for Open WebUI, and the env contract of agent_server/README.md: LiteLLM's URL and the
    key given as `gateway_key`, its own PostgreSQL database, Langfuse's URL and project keys."""

    api_key: pulumi.Output[str]
    """The key Open WebUI presents to this server (secret)."""
    url: str
    """In-cluster OpenAI-compatible base URL (with /v1)."""
    container_port: int
    """The pods' port (NetworkPolicy edges name it)."""
    image: pulumi.Output[str]
    """The image the pods run."""

    def __init__(self, name: str, ctx: AppContext, *, gateway_url: str, gateway_key: pulumi.Input[str],
                 tags: dict[str, str], opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("genai:apps:AgentServer", name, {}, opts)
        settings, creds, ns = ctx.settings, ctx.credentials, ctx.namespace_name
        agent = settings.agent_server
        if agent.builds_image:
            built = AgentImage(f"{name}-image", repository_name=f"genai-{settings.environment}-agent-server",
                               system_instance_type=settings.cluster.system_nodes.instance_types[0], tags=tags,
                               opts=pulumi.ResourceOptions(parent=self))
            image: pulumi.Input[str] = built.ref
        else:
            image = agent.image

        secret = k8s_secret(f"{NAME}-credentials", ctx.namespace, {
            "api-key": creds.agent_server_api_key,
            "litellm-api-key": gateway_key,
            "database-url": database_url(DATABASE, creds.database_passwords[DATABASE], ns),
            "langfuse-public-key": creds.langfuse_public_key,
            "langfuse-secret-key": creds.langfuse_secret_key,
        }, ctx.opts(self))
        ref = secret.metadata.name
        autoscaling = agent.autoscaling
        workload = Workload(WorkloadSpec(
            name=NAME, component="agents", image=image,
            # With an HPA the autoscaler owns the replica count
            replicas=None if autoscaling else agent.replicas,
            ports=[Port("http", PORT)],
            env={
                # LiteLLM's base URL without /v1 (the server appends it)
                "LITELLM_BASE_URL": gateway_url.removesuffix("/v1"),
                "AGENT_MODEL": settings.agent_model,
                "AGENT_HISTORY_RUNS": str(agent.history_runs),
                # Traces go to <host>/api/public/otel; the metrics tools read its public API
                "LANGFUSE_HOST": ctx.service_url("langfuse", LANGFUSE_WEB_PORT),
                "PORT": str(PORT),
                # Headers its gateway calls carry for the chat and user they serve (the Langfuse
                # session and user; agent_server/config.py reads them)
                "GATEWAY_SESSION_HEADER": SESSION_HEADER,
                "GATEWAY_USER_HEADER": USER_HEADER,
            },
            secret_env={
                "AGENT_SERVER_API_KEY": SecretRef(ref, "api-key"),
                "LITELLM_API_KEY": SecretRef(ref, "litellm-api-key"),
                "DATABASE_URL": SecretRef(ref, "database-url"),
                "LANGFUSE_PUBLIC_KEY": SecretRef(ref, "langfuse-public-key"),
                "LANGFUSE_SECRET_KEY": SecretRef(ref, "langfuse-secret-key"),
            },
            resources=agent.resources,
            liveness=Probe(path="/health", period=15),
            readiness=Probe(path="/ready", period=10),  # PostgreSQL reachable
            startup=Probe(path="/health", period=5, failures=24),
            # The image compiles its bytecode at build and sets HOME=/tmp: only /tmp is written
            scratch_paths={"tmp": "/tmp"},
            run_as_user=10001,  # the Dockerfile's USER
            allow_from=[Edge("open-webui", PORT)],
            egress_to=[Edge("litellm", GATEWAY_PORT), Edge("langfuse", LANGFUSE_WEB_PORT),
                       Edge("postgres", POSTGRES_PORT)],
        ), ctx.namespace, ctx.provider, opts=pulumi.ResourceOptions(parent=self))

        if autoscaling:
            cpu_autoscaler(NAME, ctx.namespace, autoscaling, parent=self, provider=ctx.provider, workload=workload)
        self.api_key = pulumi.Output.secret(creds.agent_server_api_key)
        # Open WebUI requests <url>/models and <url>/chat/completions (backend/open_webui/routers/openai.py)
        self.url = ctx.service_url(NAME, PORT, path="/v1")
        self.container_port = PORT
        self.image = pulumi.Output.from_input(image)
        self.register_outputs({"api_key": self.api_key, "image": self.image})
