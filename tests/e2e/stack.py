"""What the e2e run takes from the rendered dev stack: each app's env as its Deployment sets it,
with only the in-cluster addresses mapped to loopback (and pod paths to a work directory)."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

from tests.rendered import env as rendered_env
from tools.offline.records import StackRun

CLUSTER_DOMAIN = ".svc.cluster.local"
WEBUI, AGENT = "open-webui", "custom-server"
# Pod paths in the rendered env (volumes/emptyDirs): they point into the run's work directory here
POD_PATHS = ("HOME", "STATIC_DIR", "DATA_DIR")
# The e2e admin, until the rendered Deployment carries the first admin (the front-door work)
E2E_ADMIN = {"WEBUI_ADMIN_EMAIL": "admin@e2e.example.com", "WEBUI_ADMIN_PASSWORD": "e2e-Admin-password-1",
             "WEBUI_ADMIN_NAME": "Admin"}


def to_loopback(value: str, services: Mapping[str, str]) -> str:
    """Every `http://<service>.<ns>.svc.cluster.local:<port>` (or `postgresql://...@`) in `value`
    (`;`-separated lists too) with its host:port replaced by `services[<service>]` ("127.0.0.1:N")."""
    parts = []
    for item in value.split(";"):
        url = urlsplit(item)
        host = url.hostname or ""
        if url.scheme and host.endswith(CLUSTER_DOMAIN):
            service = host.split(".")[0]
            if service not in services:
                raise KeyError(f"no loopback stand-in for {service} ({item})")
            auth = url.netloc.rpartition("@")[0]
            item = urlunsplit(url._replace(netloc=f"{auth}@{services[service]}" if auth else services[service]))
        parts.append(item)
    return ";".join(parts)


def loopback_env(env: Mapping[str, str], services: Mapping[str, str]) -> dict[str, str]:
    out = {name: to_loopback(value, services) for name, value in env.items()}
    left = {k: v for k, v in out.items() if CLUSTER_DOMAIN in v}
    if left:
        raise ValueError(f"in-cluster addresses left: {left}")
    return out


def admin_credentials(webui_env: Mapping[str, str]) -> dict[str, str]:
    """The admin the browser signs in as: Open WebUI 0.12.4 creates it at start-up from
    WEBUI_ADMIN_EMAIL / WEBUI_ADMIN_PASSWORD when no user exists (open_webui/env.py, main.py).
    The rendered Deployment's values when it sets them (the front-door work), the e2e's otherwise."""
    if "WEBUI_ADMIN_EMAIL" in webui_env and "WEBUI_ADMIN_PASSWORD" in webui_env:
        return {k: webui_env[k] for k in E2E_ADMIN if k in webui_env}
    return dict(E2E_ADMIN)


def gateway_key_stand_in(run: StackRun) -> str:
    """The key the clients call the gateway with here: the master key. In the cluster each client holds
    its own LiteLLM virtual key (registered by the litellm-keys Job), but virtual keys live in LiteLLM's
    database, and its database mode cannot run on this machine (its Prisma engines cannot be
    downloaded): without it the proxy accepts the master key only. This is the e2e's one substitution
    of a credential; tests/test_gateway_keys.py covers the key Job against LiteLLM's admin API rules."""
    return rendered_env(run, "litellm")["LITELLM_MASTER_KEY"]


def webui_env(run: StackRun, services: Mapping[str, str], workdir: str) -> dict[str, str]:
    env = loopback_env(rendered_env(run, WEBUI), services)
    urls, keys = env["OPENAI_API_BASE_URLS"].split(";"), env["OPENAI_API_KEYS"].split(";")
    keys = [gateway_key_stand_in(run) if url.startswith(f"http://{services['litellm']}") else key
            for url, key in zip(urls, keys)]
    env["OPENAI_API_KEYS"] = ";".join(keys)
    env |= admin_credentials(env)
    env |= {name: f"{workdir}/{name.lower()}" for name in POD_PATHS}
    # The image's slim variant: no local embedding/whisper models are loaded or downloaded at start
    env["USE_SLIM_DOCKER"] = "true"
    return env


def agent_urls(run: StackRun) -> tuple[str, str]:
    """(the agent server's base URL, its API key) as Open WebUI's connections list them."""
    env = rendered_env(run, WEBUI)
    urls, keys = env["OPENAI_API_BASE_URLS"].split(";"), env["OPENAI_API_KEYS"].split(";")
    (index,) = [i for i, url in enumerate(urls) if urlsplit(url).hostname.startswith(f"{AGENT}.")]
    return urls[index], keys[index]


def agent_env(run: StackRun, services: Mapping[str, str], database_url: str, agent_model: str,
              langfuse: Mapping[str, str]) -> dict[str, str]:
    """The agent server's documented contract (agent_server/README.md), from its rendered Deployment
    where that sets a variable, else from what its callers and LiteLLM were rendered with."""
    rendered = loopback_env(rendered_env(run, AGENT), services)
    url, key = agent_urls(run)
    derived = {
        "AGENT_SERVER_API_KEY": key,
        "LITELLM_BASE_URL": f"http://{services['litellm']}",
        "LITELLM_API_KEY": gateway_key_stand_in(run),
        "AGENT_MODEL": agent_model,
        "PORT": services[AGENT].rsplit(":", 1)[1],
        **langfuse,
    }
    if "AGENT_SERVER_API_KEY" in rendered:  # the Deployment runs the agent server: its env as rendered
        env = {**derived, **{k: v for k, v in rendered.items() if k in derived}}
        env["DATABASE_URL"] = rendered.get("DATABASE_URL", database_url)
    else:
        env = {**derived, "DATABASE_URL": database_url}
    env["LITELLM_API_KEY"] = gateway_key_stand_in(run)
    # the container port is mapped like the addresses: the loopback port Open WebUI is pointed at
    env["PORT"] = derived["PORT"]
    env["HOME"] = "/tmp"
    return env


# Redis arguments that are addresses or paths (mapped by the harness), or the password (set by it)
REDIS_MAPPED = ("port", "dir", "requirepass")


def redis_settings(run: StackRun, name: str = "cache-redis") -> dict[str, str]:
    """The rendered `redis-server --<key> <value>` arguments that are settings, not addresses."""
    from tests.rendered import workload

    (container,) = workload(run, name).inputs["spec"]["template"]["spec"]["containers"]
    args = container["args"]
    pairs = dict(zip(args[0::2], args[1::2]))
    assert all(k.startswith("--") for k in pairs), f"unexpected {name} args: {args}"
    return {k[2:]: v for k, v in pairs.items() if k[2:] not in REDIS_MAPPED}
