"""The data stores: one PostgreSQL, single-node ClickHouse, and two Redis instances.

Decisions:
- One PostgreSQL with a database and a login role per app (Langfuse, LiteLLM, Open WebUI):
  one volume to back up and size, credentials still separate per app. Its image carries
  pgvector, so Open WebUI keeps its RAG vectors there too (no per-replica local store).
- Two Redis instances: Langfuse's queues need `noeviction` (an evicted job is a lost trace),
  while the LiteLLM response cache and Open WebUI's websocket state are a cache that must
  evict under memory pressure. One shared Redis would force one of them to be wrong.
"""

from __future__ import annotations

from typing import Optional

import pulumi
from pulumi_kubernetes.core.v1 import ConfigMap

from components.apps.context import AppContext, read_file
from components.k8s.secret import k8s_secret
from components.k8s.spec import Edge, FileMount, Port, Probe, SecretRef, Volume, WorkloadSpec
from components.k8s.workload import Workload
from components.settings.workload import Resources

POSTGRES_PORT, CLICKHOUSE_HTTP, CLICKHOUSE_NATIVE, REDIS_PORT = 5432, 8123, 9000, 6379
POSTGRES_CLIENTS = ("langfuse", "langfuse-worker", "litellm", "open-webui", "custom-server")
CLICKHOUSE_CLIENTS = ("langfuse", "langfuse-worker")
LANGFUSE_REDIS_CLIENTS = ("langfuse", "langfuse-worker")
CACHE_REDIS_CLIENTS = ("litellm", "open-webui")


def database_url(role: str, password: pulumi.Input[str], namespace: str) -> pulumi.Output[str]:
    """The app's own role and database on the shared PostgreSQL (role and database share the name)."""
    return pulumi.Output.concat(
        f"postgresql://{role}:", password, f"@postgres.{namespace}.svc.cluster.local:{POSTGRES_PORT}/{role}"
    )


def redis_spec(name: str, image: str, password_secret: pulumi.Input[str], clients: tuple[str, ...], *,
               eviction: str, max_memory: str, persistent_gib: Optional[int]) -> WorkloadSpec:
    """A password-protected Redis with the given eviction policy (AOF persistence if a volume)."""
    ping = ("sh", "-c", 'redis-cli --no-auth-warning -a "$REDIS_PASSWORD" ping | grep -q PONG')
    return WorkloadSpec(
        name=name,
        component="cache" if persistent_gib is None else "queue",
        kind="StatefulSet" if persistent_gib else "Deployment",
        image=image,
        ports=[Port("redis", REDIS_PORT)],
        command=["redis-server"],
        args=[
            "--port", str(REDIS_PORT),
            "--requirepass", "$(REDIS_PASSWORD)",
            "--maxmemory", max_memory,
            "--maxmemory-policy", eviction,
            "--appendonly", "yes" if persistent_gib else "no",
            "--save", "",
            "--dir", "/data",
        ],
        secret_env={"REDIS_PASSWORD": SecretRef(password_secret, "password")},
        resources=Resources(cpu="100m", memory="384Mi", memory_limit="512Mi"),
        liveness=Probe(port="redis"),
        readiness=Probe(command=ping),
        volumes=[Volume("data", "/data", persistent_gib)] if persistent_gib else [],
        scratch_paths={} if persistent_gib else {"data": "/data"},
        run_as_user=999,
        allow_from=[Edge(c, REDIS_PORT) for c in clients],
    )


class DataStores(pulumi.ComponentResource):
    """PostgreSQL (StatefulSet), ClickHouse (StatefulSet), Langfuse Redis (noeviction,
    StatefulSet) and the cache Redis (allkeys-lru, Deployment), all on encrypted gp3."""

    def __init__(self, name: str, ctx: AppContext, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("genai:apps:DataStores", name, {}, opts)
        creds, stores, retention = ctx.credentials, ctx.settings.data_stores, ctx.settings.retention
        k8s_opts = ctx.opts(self)

        # Define PostgreSQL: superuser plus one role and database per app, created on first start
        pg_secret = k8s_secret("postgres-credentials", ctx.namespace, {
            "superuser-password": creds.postgres_superuser_password,
            **{f"{app}-password": pw for app, pw in creds.database_passwords.items()},
        }, k8s_opts)
        init = ConfigMap(
            "postgres-init",
            metadata={"name": "postgres-init", "namespace": ctx.namespace},
            data={"10-app-databases.sh": read_file("postgres-init.sh")},
            opts=k8s_opts,
        )
        Workload(WorkloadSpec(
            name="postgres", component="database", kind="StatefulSet", image=stores.postgres_image,
            ports=[Port("postgres", POSTGRES_PORT)],
            env={"POSTGRES_USER": "postgres", "PGDATA": "/var/lib/postgresql/data/pgdata"},
            secret_env={
                "POSTGRES_PASSWORD": SecretRef(pg_secret.metadata.name, "superuser-password"),
                **{f"{app.upper()}_DB_PASSWORD": SecretRef(pg_secret.metadata.name, f"{app}-password")
                   for app in creds.database_passwords},
            },
            resources=Resources(cpu="250m", memory="512Mi", memory_limit="1Gi"),
            liveness=Probe(command=("pg_isready", "-U", "postgres", "-h", "127.0.0.1"), period=20),
            readiness=Probe(command=("pg_isready", "-U", "postgres", "-h", "127.0.0.1")),
            volumes=[Volume("data", "/var/lib/postgresql/data", stores.postgres_gib)],
            files=[FileMount("init", "/docker-entrypoint-initdb.d", config_map=init.metadata.name, mode=0o555)],
            scratch_paths={"run": "/var/run/postgresql", "tmp": "/tmp"},
            run_as_user=999,
            allow_from=[Edge(c, POSTGRES_PORT) for c in POSTGRES_CLIENTS],
            termination_grace_seconds=60,
        ), ctx.namespace, ctx.provider, opts=pulumi.ResourceOptions(parent=self), retention=retention)

        # Define ClickHouse: single node, the langfuse user's password from the environment
        ch_secret = k8s_secret("clickhouse-credentials", ctx.namespace, {"password": creds.clickhouse_password}, k8s_opts)
        ch_config = ConfigMap(
            "clickhouse-config",
            metadata={"name": "clickhouse-config", "namespace": ctx.namespace},
            data={"genai.xml": read_file("clickhouse-config.xml"), "langfuse-user.xml": read_file("clickhouse-users.xml")},
            opts=k8s_opts,
        )
        Workload(WorkloadSpec(
            name="clickhouse", component="analytics", kind="StatefulSet", image=stores.clickhouse_image,
            ports=[Port("http", CLICKHOUSE_HTTP), Port("native", CLICKHOUSE_NATIVE)],
            # Not CLICKHOUSE_PASSWORD: the image's entrypoint rewrites users.d when that is set,
            # which a read-only root forbids; our users.d file reads this variable instead
            secret_env={"LANGFUSE_USER_PASSWORD": SecretRef(ch_secret.metadata.name, "password")},
            resources=Resources(cpu="500m", memory="2Gi", memory_limit="3Gi"),
            liveness=Probe(path="/ping", port="http", period=20),
            readiness=Probe(path="/ping", port="http"),
            volumes=[Volume("data", "/var/lib/clickhouse", ctx.settings.langfuse.clickhouse_gib)],
            files=[
                FileMount("config", "/etc/clickhouse-server/config.d/genai.xml", config_map=ch_config.metadata.name,
                          sub_path="genai.xml", mode=0o444),
                FileMount("users", "/etc/clickhouse-server/users.d/langfuse-user.xml",
                          config_map=ch_config.metadata.name, sub_path="langfuse-user.xml", mode=0o444),
            ],
            scratch_paths={"logs": "/var/log/clickhouse-server", "tmp": "/tmp"},
            run_as_user=101,
            allow_from=[Edge(c, port) for c in CLICKHOUSE_CLIENTS for port in (CLICKHOUSE_HTTP, CLICKHOUSE_NATIVE)],
        ), ctx.namespace, ctx.provider, opts=pulumi.ResourceOptions(parent=self), retention=retention)

        # Define the two Redis instances: queues that never evict, and an evicting cache
        lf_redis = k8s_secret("langfuse-redis-credentials", ctx.namespace, {"password": creds.langfuse_redis_password}, k8s_opts)
        cache = k8s_secret("cache-redis-credentials", ctx.namespace, {"password": creds.cache_redis_password}, k8s_opts)
        Workload(redis_spec("langfuse-redis", stores.redis_image, lf_redis.metadata.name, LANGFUSE_REDIS_CLIENTS,
                            eviction="noeviction", max_memory="384mb", persistent_gib=stores.redis_gib),
                 ctx.namespace, ctx.provider, opts=pulumi.ResourceOptions(parent=self), retention=retention)
        # Open WebUI uses the cache only with several replicas (websockets, config sync): no
        # ingress opening for a client that never connects
        cache_clients = tuple(c for c in CACHE_REDIS_CLIENTS if c != "open-webui" or ctx.settings.open_webui.replicas > 1)
        Workload(redis_spec("cache-redis", stores.redis_image, cache.metadata.name, cache_clients,
                            eviction="allkeys-lru", max_memory="256mb", persistent_gib=None),
                 ctx.namespace, ctx.provider, opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({})
