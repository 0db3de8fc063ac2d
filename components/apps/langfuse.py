"""Langfuse v4: web and worker on PostgreSQL, ClickHouse, Redis and an S3 event bucket.

Headless initialisation creates the organisation, the project with generated API keys and the
admin user on first start; LiteLLM receives the same keys, so traces flow with no manual step.

Env names as Langfuse reads them (langfuse/langfuse main of 2026-08-22, after v4.16.0):
web/src/env.mjs (DATABASE_URL, NEXTAUTH_SECRET, SALT, ENCRYPTION_KEY, TELEMETRY_ENABLED, LANGFUSE_INIT_*),
packages/shared/src/env.ts (CLICKHOUSE_*, REDIS_HOST/PORT/AUTH, LANGFUSE_S3_EVENT_UPLOAD_*), and
CLICKHOUSE_MIGRATION_URL, which the container's migration step reads (docker-compose.yml). The pinned
4.52.0's own source was not available to check.
"""

from __future__ import annotations

from typing import Optional

import pulumi

from components.apps.context import AppContext
from components.apps.datastores import CLICKHOUSE_HTTP, CLICKHOUSE_NATIVE, POSTGRES_PORT, REDIS_PORT, database_url
from components.front_door.app_auth import langfuse_auth
from components.k8s.secret import k8s_secret
from components.k8s.spec import Edge, Port, Probe, SecretRef, WorkloadSpec
from components.k8s.workload import Workload
from components.pod_identity import PodIdentityRole
from components.settings.workload import Resources
from components.storage_bucket import PrivateBucket

WEB, WORKER = "langfuse", "langfuse-worker"
WEB_PORT, WORKER_PORT = 3000, 3030
EVENT_PREFIX = "events/"
ORG_ID, PROJECT_ID = "genai-platform", "gateway"


class Langfuse(pulumi.ComponentResource):
    """Langfuse web (Service `langfuse:3000`) and worker, the event bucket reached through
    their own Pod Identity role, and the headless-init organisation, project and admin."""

    admin_password: pulumi.Output[str]
    """The admin user's generated password (secret)."""
    bucket_name: pulumi.Output[str]
    """The S3 event upload bucket."""

    def __init__(self, name: str, ctx: AppContext, cluster_name: pulumi.Input[str], tags: dict[str, str],
                 opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("genai:apps:Langfuse", name, {}, opts)
        settings, creds, ns = ctx.settings, ctx.credentials, ctx.namespace_name
        lf = settings.langfuse

        # Event upload bucket and the role web and worker use for it (no static keys)
        bucket = PrivateBucket(f"{name}-events", parent=self, expire_prefix=EVENT_PREFIX,
                               expire_days=lf.event_retention_days, tags=tags, retention=settings.retention)
        storage = PodIdentityRole(
            f"{name}-s3", parent=self, cluster_name=cluster_name, tags=tags, account_id=ctx.account_id,
            policy=bucket.access_policy(),
            service_accounts=[(ns, WEB), (ns, WORKER)],
        )

        auth = langfuse_auth(ctx.front_door, ORG_ID)
        secret = k8s_secret(f"{WEB}-credentials", ctx.namespace, {
            **auth.secrets,
            "database-url": database_url("langfuse", creds.database_passwords["langfuse"], ns),
            "salt": creds.langfuse_salt,
            "encryption-key": creds.langfuse_encryption_key,
            "nextauth-secret": creds.langfuse_nextauth_secret,
            "clickhouse-password": creds.clickhouse_password,
            "redis-password": creds.langfuse_redis_password,
            "public-key": creds.langfuse_public_key,
            "secret-key": creds.langfuse_secret_key,
            "admin-password": creds.langfuse_admin_password,
        }, ctx.opts(self))
        ref = secret.metadata.name

        shared_env = {
            "CLICKHOUSE_URL": f"http://clickhouse.{ns}.svc.cluster.local:{CLICKHOUSE_HTTP}",
            "CLICKHOUSE_MIGRATION_URL": f"clickhouse://clickhouse.{ns}.svc.cluster.local:{CLICKHOUSE_NATIVE}",
            "CLICKHOUSE_USER": "langfuse",
            "CLICKHOUSE_CLUSTER_ENABLED": "false",
            "REDIS_HOST": f"langfuse-redis.{ns}.svc.cluster.local",
            "REDIS_PORT": str(REDIS_PORT),
            "LANGFUSE_S3_EVENT_UPLOAD_BUCKET": bucket.name,
            "LANGFUSE_S3_EVENT_UPLOAD_REGION": settings.region,
            "LANGFUSE_S3_EVENT_UPLOAD_PREFIX": EVENT_PREFIX,
            "TELEMETRY_ENABLED": "false",
            "HOSTNAME": "0.0.0.0",
            "HOME": "/tmp",
        }
        shared_secrets = {
            "DATABASE_URL": SecretRef(ref, "database-url"),
            "SALT": SecretRef(ref, "salt"),
            "ENCRYPTION_KEY": SecretRef(ref, "encryption-key"),
            "CLICKHOUSE_PASSWORD": SecretRef(ref, "clickhouse-password"),
            "REDIS_AUTH": SecretRef(ref, "redis-password"),
        }
        stores = [Edge("postgres", POSTGRES_PORT), Edge("clickhouse", CLICKHOUSE_HTTP),
                  Edge("clickhouse", CLICKHOUSE_NATIVE), Edge("langfuse-redis", REDIS_PORT)]

        # Web: UI, public API and OTLP ingestion; runs the database migrations
        Workload(WorkloadSpec(
            name=WEB, component="observability", image=lf.web_image, replicas=lf.web_replicas,
            ports=[Port("http", WEB_PORT)],
            env={
                **shared_env,
                # The front door's https URL; without it, port-forward (localhost:3001); SSO settings
                **auth.env,
                "LANGFUSE_INIT_ORG_ID": ORG_ID,
                "LANGFUSE_INIT_ORG_NAME": lf.org_name,
                "LANGFUSE_INIT_PROJECT_ID": PROJECT_ID,
                "LANGFUSE_INIT_PROJECT_NAME": lf.project_name,
                "LANGFUSE_INIT_USER_EMAIL": lf.admin_email,
                "LANGFUSE_INIT_USER_NAME": "admin",
            },
            secret_env={
                **shared_secrets,
                "NEXTAUTH_SECRET": SecretRef(ref, "nextauth-secret"),
                "LANGFUSE_INIT_PROJECT_PUBLIC_KEY": SecretRef(ref, "public-key"),
                "LANGFUSE_INIT_PROJECT_SECRET_KEY": SecretRef(ref, "secret-key"),
                "LANGFUSE_INIT_USER_PASSWORD": SecretRef(ref, "admin-password"),
                **{name: SecretRef(ref, key) for name, key in auth.secret_env.items()},
            },
            resources=Resources(cpu="500m", memory="1Gi", memory_limit="2Gi"),
            liveness=Probe(path="/api/public/health", period=15),
            readiness=Probe(path="/api/public/ready", period=10),
            startup=Probe(path="/api/public/health", period=10, failures=60),
            # Next.js writes its cache at runtime: the root filesystem stays writable here
            read_only_root=False,
            scratch_paths={"tmp": "/tmp"},
            run_as_user=1001,
            allow_from=[Edge("litellm", WEB_PORT), Edge("custom-server", WEB_PORT)],  # traces, metrics API
            allow_users=True,
            allow_from_cidrs=ctx.alb_sources(WEB),
            egress_to=stores,
            egress_https=True,
            egress_aws_identity=True,
            depends_on=storage.associations,  # credentials only reach pods created after them
        ), ctx.namespace, ctx.provider, opts=pulumi.ResourceOptions(parent=self))

        # Worker: ingestion queue processing into ClickHouse and S3
        Workload(WorkloadSpec(
            name=WORKER, component="observability", image=lf.worker_image, replicas=lf.worker_replicas,
            ports=[Port("http", WORKER_PORT)],
            env={**shared_env, "PORT": str(WORKER_PORT)},
            secret_env=shared_secrets,
            resources=Resources(cpu="500m", memory="1Gi", memory_limit="2Gi"),
            liveness=Probe(path="/api/health", period=15),
            readiness=Probe(path="/api/health", period=10),
            scratch_paths={"tmp": "/tmp"},
            run_as_user=1001,
            service=False,
            egress_to=stores,
            egress_https=True,
            egress_aws_identity=True,
            depends_on=storage.associations,  # credentials only reach pods created after them
        ), ctx.namespace, ctx.provider, opts=pulumi.ResourceOptions(parent=self))

        self.admin_password = pulumi.Output.secret(creds.langfuse_admin_password)
        self.bucket_name = bucket.name
        self.register_outputs({"admin_password": self.admin_password, "bucket_name": self.bucket_name})
