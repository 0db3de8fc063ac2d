"""Open WebUI, the chat UI: connected to LiteLLM and the agent server, state in PostgreSQL."""

from __future__ import annotations

from typing import Optional

import pulumi

from components.apps.context import AppContext
from components.apps.datastores import POSTGRES_PORT, REDIS_PORT, database_url
from components.apps.gateway_config import SESSION_HEADER
from components.front_door.app_auth import open_webui_auth
from components.k8s.secret import k8s_secret
from components.k8s.spec import Edge, Port, Probe, SecretRef, Volume, WorkloadSpec
from components.k8s.workload import Workload
from components.pod_identity import PodIdentityRole
from components.settings.workload import Resources
from components.storage_bucket import PrivateBucket

NAME = "open-webui"
CONTAINER_PORT, SERVICE_PORT = 8080, 80
DATA = "/app/backend/data"


def session_header_config() -> str:
    """OPENAI_API_CONFIGS: connection 0 (the gateway) sends `X-LiteLLM-Session-Id: {{CHAT_ID}}`.
    The braces are JSON \\u escapes (Open WebUI decodes them): manifest scanners such as
    Checkov take a literal `{{` for a Helm template and skip the whole file."""
    template = "".join(f"\\u{ord(c):04x}" if c in "{}" else c for c in "{{CHAT_ID}}")
    return '{"0": {"headers": {"%s": "%s"}}}' % (SESSION_HEADER, template)


class OpenWebUI(pulumi.ComponentResource):
    """Deployment + Service `open-webui:80 -> 8080`. Chats, users and RAG vectors (pgvector)
    live in PostgreSQL and uploads in S3, so any replica count works; more than one replica
    adds Redis-backed websockets and config sync."""

    def __init__(self, name: str, ctx: AppContext, *, gateway_url: str, gateway_key: pulumi.Input[str],
                 agent_url: str, agent_port: int, agent_key: pulumi.Input[str], cluster_name: pulumi.Input[str],
                 tags: dict[str, str], opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("genai:apps:OpenWebUI", name, {}, opts)
        settings, creds, ns = ctx.settings, ctx.credentials, ctx.namespace_name
        webui = settings.open_webui
        several = webui.replicas > 1

        uploads = PrivateBucket(f"{name}-uploads", parent=self, tags=tags, retention=settings.retention)
        storage = PodIdentityRole(
            f"{name}-s3", parent=self, cluster_name=cluster_name, tags=tags, account_id=ctx.account_id,
            policy=uploads.access_policy(),
            service_accounts=[(ns, NAME)],
        )

        redis_url = pulumi.Output.concat(
            "redis://:", creds.cache_redis_password, f"@cache-redis.{ns}.svc.cluster.local:{REDIS_PORT}/1"
        )
        auth = open_webui_auth(settings, ctx.front_door, creds.open_webui_admin_password)
        secret = k8s_secret(f"{NAME}-credentials", ctx.namespace, {
            **auth.secrets,
            "secret-key": creds.open_webui_secret_key,
            "database-url": database_url("openwebui", creds.database_passwords["openwebui"], ns),
            # Paired by position with OPENAI_API_BASE_URLS: Open WebUI's own gateway key (never the
            # master key), then the agent server's API key
            "openai-api-keys": pulumi.Output.concat(gateway_key, ";", agent_key),
            "redis-url": redis_url,
        }, ctx.opts(self))
        ref = secret.metadata.name

        env = {
            "OPENAI_API_BASE_URLS": f"{gateway_url};{agent_url}",
            "ENABLE_OLLAMA_API": "False",
            "ENABLE_OPENAI_API": "True",
            "ENABLE_PERSISTENT_CONFIG": "False",
            "ENABLE_FORWARD_USER_INFO_HEADERS": "True",
            # The gateway connection (index 0) also sends the chat id as LiteLLM's session header,
            # so each chat is one Langfuse session (Open WebUI 0.12.4 fills {{CHAT_ID}} in a
            # connection's headers: open_webui/utils/headers.py parse_custom_headers)
            "OPENAI_API_CONFIGS": session_header_config(),
            # Background tasks (title, tags, follow-ups) go to a gateway model, not to the chat's model:
            # otherwise an agent chat runs the agent once more per task, on the same chat id. OpenAI-API
            # models are "external" connections, so TASK_MODEL_EXTERNAL applies (open_webui 0.12.4
            # utils/task.py get_task_model_id; config.py 'task.model.external'); it must be a model id
            # Open WebUI lists, and the gateway connection has no prefix_id, so LiteLLM's model name
            "TASK_MODEL_EXTERNAL": settings.task_model,
            # ENABLE_SIGNUP comes with the public URL and SSO below (auth.env)
            "DEFAULT_USER_ROLE": webui.default_user_role,
            "VECTOR_DB": "pgvector",
            "STORAGE_PROVIDER": "s3",
            "S3_BUCKET_NAME": uploads.name,
            "S3_REGION_NAME": settings.region,
            "ANONYMIZED_TELEMETRY": "False",
            "DO_NOT_TRACK": "True",
            "SCARF_NO_ANALYTICS": "True",
            "HOME": "/tmp",
            # Assets are copied here at start; the image's own static dir is not writable
            "STATIC_DIR": "/tmp/static",
        }
        secret_env = {
            "WEBUI_SECRET_KEY": SecretRef(ref, "secret-key"),
            "DATABASE_URL": SecretRef(ref, "database-url"),
            "PGVECTOR_DB_URL": SecretRef(ref, "database-url"),
            "OPENAI_API_KEYS": SecretRef(ref, "openai-api-keys"),
        }
        # Public URL, first admin, SSO (components/front_door/app_auth.py)
        env |= auth.env
        secret_env |= {name: SecretRef(ref, key) for name, key in auth.secret_env.items()}
        egress = [Edge("litellm", 4000), Edge("custom-server", agent_port), Edge("postgres", POSTGRES_PORT)]
        if several:
            env |= {"ENABLE_WEBSOCKET_SUPPORT": "True", "WEBSOCKET_MANAGER": "redis"}
            secret_env |= {"WEBSOCKET_REDIS_URL": SecretRef(ref, "redis-url"), "REDIS_URL": SecretRef(ref, "redis-url")}
            egress.append(Edge("cache-redis", REDIS_PORT))

        Workload(WorkloadSpec(
            name=NAME, component="ui", image=webui.image, replicas=webui.replicas,
            ports=[Port("http", CONTAINER_PORT, SERVICE_PORT)],
            env=env, secret_env=secret_env,
            resources=Resources(cpu="500m", memory="1Gi", memory_limit="2Gi"),
            liveness=Probe(path="/health", period=15),
            readiness=Probe(path="/health/db", period=10),
            startup=Probe(path="/health", period=10, failures=60),
            # One replica keeps its data directory (caches, local models) on a volume;
            # several share everything through PostgreSQL, S3 and Redis instead
            volumes=[] if several else [Volume("data", DATA, webui.data_gib)],
            scratch_paths={"tmp": "/tmp", **({"data": DATA} if several else {})},
            # The image supports arbitrary UIDs through group-0-writable directories (v0.6.23+):
            # primary group 0 (allowed by the restricted standard), volumes owned by group 1000
            read_only_root=False,
            run_as_user=1000,
            run_as_group=0,
            fs_group=1000,
            allow_users=True,
            allow_from_cidrs=ctx.alb_sources(NAME),
            egress_to=egress,
            # Embedding models and web content are fetched over HTTPS; S3 through Pod Identity
            egress_https=True,
            egress_aws_identity=True,
            depends_on=storage.associations,  # credentials only reach pods created after them
        ), ctx.namespace, ctx.provider, opts=pulumi.ResourceOptions(parent=self), retention=settings.retention)
        self.register_outputs({})
