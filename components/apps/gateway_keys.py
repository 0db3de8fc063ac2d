"""One LiteLLM key per gateway client, so no client holds the master key.

Mechanism: LiteLLM virtual keys (its database, which the gateway has in production). Each key's
value is generated here with pulumi-random and handed to its client through that client's own
Secret; a Job (`litellm-keys`) creates or updates the keys through the admin API once the gateway
is ready (`files/provision_gateway_keys.py`, idempotent: /key/update, else /key/generate with the
pre-set `key` value and a fixed `key_alias`). Why: a key per client is revocable on its own
(`POST /key/block` or `/key/delete` by alias, by an administrator), carries its own limits
(rpm/tpm/parallel/budget, enforced by LiteLLM per key) and has its spend attributed to it
(`api_key_alias` on litellm_spend_metric, spend logs in the database). The master key stays in
the gateway's Secret, read only by the gateway and this Job.

The Job runs again whenever the script, the limits or a key value change (its pod annotations
carry their hashes), so rotating a client's key (`pulumi up --replace` on its RandomPassword)
revokes the old value and creates the new one.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Optional

import pulumi
import pulumi_random as random
from pulumi_kubernetes.batch.v1 import Job
from pulumi_kubernetes.core.v1 import ConfigMap
from pulumi_kubernetes.networking.v1 import NetworkPolicy

from components.apps.context import AppContext, read_file
from components.k8s.network import DNS_PEER
from components.k8s.secret import k8s_secret
from components.k8s.spec import APP_LABEL, PART_OF
from components.settings.gateway import ClientLimits

NAME = "litellm-keys"
SCRIPT = "provision_gateway_keys.py"
KEYS_DIR = "/var/run/gateway-clients"
HEARTBEAT = "/run/heartbeat/beat"
# The script touches HEARTBEAT before every call (30 s timeouts, 2 s polls): stale for a minute = hung
_ALIVE = ["python", "-c", f"import os, sys, time; sys.exit(time.time() - os.path.getmtime({HEARTBEAT!r}) > 60)"]
# Client key alias -> the settings field with its limits (gateway.clients.<field>)
CLIENTS = {"open-webui": "open_webui", "custom-server": "agent_server"}


def client_spec(alias: str, limits: ClientLimits) -> dict[str, Any]:
    """What the Job sends for one client: /key/generate fields (LiteLLM GenerateKeyRequest)."""
    spec: dict[str, Any] = {"key_alias": alias, "key_file": f"{KEYS_DIR}/{alias}", "metadata": {"client": alias}}
    for field, value in (("rpm_limit", limits.rpm_limit), ("tpm_limit", limits.tpm_limit),
                         ("max_parallel_requests", limits.max_parallel_requests),
                         ("max_budget", limits.max_budget_usd), ("budget_duration", limits.budget_duration)):
        if value is not None:
            spec[field] = value
    return spec


class GatewayKeys(pulumi.ComponentResource):
    """Generated client keys, their Secret, and the Job that registers them with LiteLLM."""

    keys: dict[str, pulumi.Output[str]]
    """Client key alias -> its key (secret)."""

    def __init__(self, name: str, ctx: AppContext, *, gateway_url: str, master_key_secret: pulumi.Input[str],
                 image: str, depends_on: list[pulumi.Resource], opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("genai:apps:GatewayKeys", name, {}, opts)
        k8s_opts = ctx.opts(self)
        clients = ctx.settings.gateway.clients
        # LiteLLM accepts a pre-set key value that starts with sk- and has at least 16 characters
        self.keys = {
            alias: pulumi.Output.secret(pulumi.Output.concat("sk-", random.RandomPassword(
                f"{name}-{alias}", length=48, special=False, opts=pulumi.ResourceOptions(parent=self)).result))
            for alias in CLIENTS
        }
        specs = [client_spec(alias, getattr(clients, field)) for alias, field in CLIENTS.items()]
        script = read_file(SCRIPT)
        scripts = ConfigMap(f"{NAME}-script", metadata={"name": f"{NAME}-script", "namespace": ctx.namespace},
                            data={SCRIPT: script}, opts=k8s_opts)
        keys_secret = k8s_secret(f"{NAME}-clients", ctx.namespace, self.keys, k8s_opts)
        labels = {APP_LABEL: NAME, "app.kubernetes.io/component": "gateway-admin", **PART_OF}

        # Only DNS and the gateway: the Job talks to nothing else
        NetworkPolicy(f"{NAME}-netpol", metadata={"name": NAME, "namespace": ctx.namespace, "labels": labels}, spec={
            "podSelector": {"matchLabels": {APP_LABEL: NAME}},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [],
            "egress": [
                {"to": [DNS_PEER], "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]},
                {"to": [{"podSelector": {"matchLabels": {APP_LABEL: "litellm"}}}], "ports": [{"protocol": "TCP", "port": 4000}]},
            ],
        }, opts=k8s_opts)

        keys_hash = pulumi.Output.all(*self.keys.values()).apply(
            lambda values: hashlib.sha256("\n".join(values).encode()).hexdigest())
        Job(NAME, metadata={"name": NAME, "namespace": ctx.namespace, "labels": labels}, spec={
            "backoffLimit": 6,
            "template": {
                "metadata": {"labels": labels, "annotations": {
                    "genai-platform/script-sha256": hashlib.sha256(script.encode()).hexdigest(),
                    "genai-platform/clients-sha256": hashlib.sha256(json.dumps(specs, sort_keys=True).encode()).hexdigest(),
                    "genai-platform/keys-sha256": keys_hash,
                }},
                "spec": {
                    "restartPolicy": "Never",
                    "automountServiceAccountToken": False,
                    "securityContext": {"runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532, "fsGroup": 65532,
                                        "seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [{
                        "name": NAME,
                        "image": image,
                        "command": ["python", f"/scripts/{SCRIPT}"],
                        "env": [
                            {"name": "LITELLM_URL", "value": gateway_url},
                            {"name": "GATEWAY_CLIENTS", "value": json.dumps(specs, sort_keys=True)},
                            {"name": "HEARTBEAT_FILE", "value": HEARTBEAT},
                            {"name": "LITELLM_MASTER_KEY",
                             "valueFrom": {"secretKeyRef": {"name": master_key_secret, "key": "master-key"}}},
                        ],
                        "volumeMounts": [{"name": "script", "mountPath": "/scripts", "readOnly": True},
                                         {"name": "clients", "mountPath": KEYS_DIR, "readOnly": True},
                                         {"name": "heartbeat", "mountPath": "/run/heartbeat"}],
                        "livenessProbe": {"exec": {"command": _ALIVE}, "initialDelaySeconds": 30, "periodSeconds": 30},
                        "readinessProbe": {"exec": {"command": _ALIVE}, "initialDelaySeconds": 5, "periodSeconds": 30},
                        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"},
                                      "limits": {"cpu": "200m", "memory": "128Mi"}},
                        "securityContext": {"runAsNonRoot": True, "allowPrivilegeEscalation": False, "privileged": False,
                                            "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]}},
                    }],
                    "volumes": [
                        {"name": "script", "configMap": {"name": scripts.metadata.name, "defaultMode": 0o444}},
                        {"name": "clients", "secret": {"secretName": keys_secret.metadata.name, "defaultMode": 0o440}},
                        {"name": "heartbeat", "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}},
                    ],
                },
            },
        }, opts=pulumi.ResourceOptions(parent=self, provider=ctx.provider, depends_on=depends_on,
                                       delete_before_replace=True))
        self.register_outputs({"keys": self.keys})
