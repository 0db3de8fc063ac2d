"""Every credential the platform generates, with pulumi-random so it is stable across updates."""

from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_random as random

from components.retention import DataRetention


class Credentials(pulumi.ComponentResource):
    """Generated passwords and keys. Values that encrypt or guard stored data (Langfuse
    ENCRYPTION_KEY/SALT/NEXTAUTH_SECRET, LiteLLM salt key, Open WebUI secret key, database
    passwords, the Langfuse project keys created once at first start) are protected while the
    stack retains its data (`retainData`): Pulumi refuses to replace or delete them."""

    def __init__(self, name: str, retention: DataRetention, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("genai:apps:Credentials", name, {}, opts)
        self._name = name
        self._guards_data = retention.protect

        # LiteLLM: the master key must start with sk-; the salt key encrypts stored API keys
        self.litellm_master_key = pulumi.Output.concat("sk-", self._password("litellm-master-key", 48))
        self.litellm_salt_key = pulumi.Output.concat("sk-", self._password("litellm-salt-key", 48, guards_data=True))

        # Langfuse: data-encryption material and the project's API keys
        self.langfuse_salt = self._password("langfuse-salt", 32, guards_data=True)
        self.langfuse_nextauth_secret = self._password("langfuse-nextauth-secret", 32, guards_data=True)
        self.langfuse_encryption_key = random.RandomId(
            f"{name}-langfuse-encryption-key", byte_length=32,
            opts=pulumi.ResourceOptions(parent=self, protect=self._guards_data),
        ).hex
        self.langfuse_public_key = pulumi.Output.concat("pk-lf-", self._uuid("langfuse-public-key"))
        self.langfuse_secret_key = pulumi.Output.concat("sk-lf-", self._uuid("langfuse-secret-key"))
        self.langfuse_admin_password = self._password("langfuse-admin-password", 24, guards_data=True)

        # Data stores: one PostgreSQL superuser plus a user per app (the agent server too); ClickHouse; two Redis
        self.postgres_superuser_password = self._password("postgres-superuser", 32, guards_data=True)
        self.database_passwords = {
            app: self._password(f"postgres-{app}", 32, guards_data=True)
            for app in ("langfuse", "litellm", "openwebui", "agentserver")
        }
        self.clickhouse_password = self._password("clickhouse", 32, guards_data=True)
        self.langfuse_redis_password = self._password("langfuse-redis", 32)
        self.cache_redis_password = self._password("cache-redis", 32)

        # Open WebUI session signing key; the agent server's API key (never its public default)
        self.open_webui_secret_key = self._password("open-webui-secret-key", 48, guards_data=True)
        # Open WebUI's first admin (created at first start; a stack output): fixed once used
        self.open_webui_admin_password = self._password("open-webui-admin-password", 24, guards_data=True)
        self.agent_server_api_key = self._password("agent-server-api-key", 48)
        self.register_outputs({})

    def _password(self, name: str, length: int, guards_data: bool = False) -> pulumi.Output[str]:
        # Letters and digits only: the values go into URLs (DATABASE_URL, redis://) unescaped
        return random.RandomPassword(
            f"{self._name}-{name}", length=length, special=False,
            opts=pulumi.ResourceOptions(parent=self, protect=guards_data and self._guards_data),
        ).result

    def _uuid(self, name: str) -> pulumi.Output[str]:
        return random.RandomUuid(
            f"{self._name}-{name}", opts=pulumi.ResourceOptions(parent=self, protect=self._guards_data)
        ).result
