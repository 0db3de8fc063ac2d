"""Wiring asserted, not assumed: the gateway config, shared keys, and no literal secrets."""

from __future__ import annotations

import json
import re

from components.settings import load_stack_settings
from components.settings.gateway import resolve_routing
from rendered import containers, env, gateway_config, secret_data, workloads


def test_gateway_lists_every_model_and_vllm_bases_point_at_services(stack_run):
    settings = load_stack_settings(stack_run.stack)
    routing = resolve_routing(settings)
    config = gateway_config(stack_run)
    deployments: dict[str, list[dict]] = {}
    for m in config["model_list"]:
        deployments.setdefault(m["model_name"], []).append(m["litellm_params"])
    groups = {name for name, _, _ in routing.groups}
    assert set(deployments) == {m.name for m in settings.models} | {m.name for m in settings.bedrock_models} | groups
    for model in settings.bedrock_models:
        assert deployments[model.name] == [{"model": f"bedrock/{model.model_id}", "aws_region_name": settings.region}]
    for model in settings.models:
        [params] = deployments[model.name]
        assert params["model"] == f"hosted_vllm/{model.name}"
        assert params["api_base"] == f"http://{model.service_name}.genai.svc.cluster.local:8000/v1"
    assert config["router_settings"]["fallbacks"] == [{m.name: [settings.fallback_for(m)]} for m in settings.models]
    # Each group: its Bedrock model first, the self-hosted model next (served when over budget)
    bedrock_ids = {m.name: m.model_id for m in settings.bedrock_models}
    for name, bedrock, hosted in routing.groups:
        first, second = sorted(deployments[name], key=lambda p: p["order"])
        assert (first["model"], first["order"]) == (f"bedrock/{bedrock_ids[bedrock]}", 1)
        assert (second["model"], second["order"]) == (f"hosted_vllm/{hosted}", 2)


def test_gateway_features_and_no_inline_secrets(stack_run):
    config = gateway_config(stack_run)
    assert config["router_settings"]["routing_strategy"] in {
        "simple-shuffle", "least-busy", "usage-based-routing", "usage-based-routing-v2",
        "latency-based-routing", "cost-based-routing"}
    settings = config["litellm_settings"]
    assert settings["callbacks"] == ["langfuse_otel", "prometheus"]
    assert settings["cache"] is True and settings["cache_params"]["type"] == "redis" and settings["cache_params"]["ttl"] > 0
    general = config["general_settings"]
    assert general == {"master_key": "os.environ/LITELLM_MASTER_KEY", "database_url": "os.environ/DATABASE_URL",
                       "user_header_name": "X-OpenWebUI-User-Id"}
    variables = env(stack_run, "litellm")
    for key in ("LITELLM_MASTER_KEY", "LITELLM_SALT_KEY", "DATABASE_URL", "REDIS_PASSWORD",
                "LANGFUSE_PUBLIC_KEY", "LANGFUSE_SECRET_KEY"):
        assert variables[key], key
        assert variables[key] not in json.dumps(config)
    assert variables["LITELLM_MASTER_KEY"].startswith("sk-")
    assert not any(k.startswith("AWS_ACCESS_KEY") or k.startswith("AWS_SECRET") for k in variables)


def test_langfuse_keys_litellm_reads_are_the_ones_langfuse_initialises(stack_run):
    litellm, web = env(stack_run, "litellm"), env(stack_run, "langfuse")
    assert litellm["LANGFUSE_PUBLIC_KEY"] == web["LANGFUSE_INIT_PROJECT_PUBLIC_KEY"]
    assert litellm["LANGFUSE_SECRET_KEY"] == web["LANGFUSE_INIT_PROJECT_SECRET_KEY"]
    assert web["LANGFUSE_INIT_PROJECT_PUBLIC_KEY"].startswith("pk-lf-")
    assert web["LANGFUSE_INIT_PROJECT_SECRET_KEY"].startswith("sk-lf-")
    assert litellm["LANGFUSE_HOST"] == "http://langfuse.genai.svc.cluster.local:3000"
    assert len(web["ENCRYPTION_KEY"]) == 64 and int(web["ENCRYPTION_KEY"], 16) >= 0
    worker = env(stack_run, "langfuse-worker")
    for key in ("DATABASE_URL", "SALT", "ENCRYPTION_KEY", "CLICKHOUSE_PASSWORD", "REDIS_AUTH"):
        assert worker[key] == web[key], key


def test_open_webui_and_agent_server_use_their_own_gateway_keys(stack_run):
    """Each client holds its own LiteLLM key, the one the key Job registers for it; neither holds
    the master key (it is only in the gateway's env and the key Job's)."""
    webui, agent, litellm = env(stack_run, "open-webui"), env(stack_run, "custom-server"), env(stack_run, "litellm")
    master = litellm["LITELLM_MASTER_KEY"]
    urls = webui["OPENAI_API_BASE_URLS"].split(";")
    keys = webui["OPENAI_API_KEYS"].split(";")
    # Open WebUI appends /models and /chat/completions; the agent server serves them under /v1
    assert urls == ["http://litellm.genai.svc.cluster.local:4000/v1", "http://custom-server.genai.svc.cluster.local:5000/v1"]
    registered = secret_data(stack_run, "litellm-keys-clients")
    assert keys[0] == registered["open-webui"] and agent["LITELLM_API_KEY"] == registered["custom-server"]
    assert keys[0] != agent["LITELLM_API_KEY"]
    assert all(k.startswith("sk-") and len(k) >= 16 for k in registered.values())  # LiteLLM's custom-key rules
    assert keys[1] == agent["AGENT_SERVER_API_KEY"] and len(keys[1]) >= 32
    # agent_server/config.py: LiteLLM's base URL without /v1
    assert agent["LITELLM_BASE_URL"] == "http://litellm.genai.svc.cluster.local:4000"
    for app in ("open-webui", "custom-server"):
        assert master not in env(stack_run, app).values(), app
        assert master not in json.dumps(env(stack_run, app)), app
    holders = {r.inputs["metadata"]["name"] for r in stack_run.kubernetes_objects()
               if r.type.endswith(":Secret") and master in json.dumps(r.inputs.get("stringData") or {})}
    assert holders == {"litellm-credentials"}


def test_database_urls_use_each_apps_own_role(stack_run):
    pg = env(stack_run, "postgres")
    for app, var in (("langfuse", "LANGFUSE_DB_PASSWORD"), ("litellm", "LITELLM_DB_PASSWORD"),
                     ("open-webui", "OPENWEBUI_DB_PASSWORD"), ("custom-server", "AGENTSERVER_DB_PASSWORD")):
        url = env(stack_run, app)["DATABASE_URL"]
        role = {"open-webui": "openwebui", "custom-server": "agentserver"}.get(app, app)
        assert url == f"postgresql://{role}:{pg[var]}@postgres.genai.svc.cluster.local:5432/{role}"


def test_no_secret_value_in_any_env_literal(stack_run):
    secret_values = {
        value for record in stack_run.kubernetes_objects() if record.type.endswith(":Secret")
        for value in record.inputs["stringData"].values() if len(value) >= 8
    }
    assert len(secret_values) > 10
    for record in workloads(stack_run) + workloads(stack_run, "kube-system"):
        for c in containers(record):
            for item in c.get("env", []):
                literal = item.get("value", "")
                assert not any(s in literal for s in secret_values), (c["name"], item["name"])
            assert not any(s in json.dumps(c.get("args", [])) for s in secret_values), c["name"]


def test_credentials_generated_and_data_bound_ones_protected(stack_run):
    randoms = [r for r in stack_run.resources if r.type.startswith("random:")]
    assert randoms
    protected_names = {"langfuse-salt", "langfuse-nextauth-secret", "langfuse-encryption-key", "litellm-salt-key",
                       "open-webui-secret-key"}
    # protect is a resource option: the engine records it from the registration request
    for name in protected_names:
        (record,) = [r for r in randoms if r.name.endswith(name)]
        # protected while the stack retains its data (genai-platform:retainData, tests/test_teardown.py)
        assert record.protect == load_stack_settings(stack_run.stack).retain_data, name
    (master,) = [r for r in randoms if r.name.endswith("litellm-master-key")]
    assert not master.protect


def test_secret_outputs(stack_run):
    for key in ("kubeconfig", "litellmMasterKey", "langfuseAdminPassword"):
        assert key in stack_run.secret_outputs, key
    assert stack_run.outputs["access"]["langfuse"]["portForward"] == "kubectl port-forward -n genai svc/langfuse 3001:3000"


def test_router_shares_state_in_redis_only_when_something_counts_across_replicas(stack_runs, run_with):
    """Budgets, rate limits and usage-aware strategies count in Redis; otherwise no Redis round trips."""
    shared = ("os.environ/REDIS_HOST", "os.environ/REDIS_PASSWORD")
    dev = gateway_config(stack_runs["dev"])["router_settings"]
    assert dev["provider_budget_config"] == {"bedrock": {"budget_limit": 10.0, "time_period": "1h"}}
    assert (dev["redis_host"], dev["redis_password"]) == shared
    plain = gateway_config(run_with("dev", {"genai-platform:gateway": {"economy": None}}))["router_settings"]
    assert "redis_host" not in plain and "provider_budget_config" not in plain
    assert "optional_pre_call_checks" not in plain
    run = run_with("dev", {"genai-platform:gateway": {"routingStrategy": "usage-based-routing-v2", "economy": None}})
    router = gateway_config(run)["router_settings"]
    assert router["routing_strategy"] == "usage-based-routing-v2"
    assert (router["redis_host"], router["redis_password"]) == shared
    limited = run_with("dev", {"genai-platform:gateway": {"economy": None, "bedrockRpm": 100}})
    router = gateway_config(limited)["router_settings"]
    assert router["optional_pre_call_checks"] == ["enforce_model_rate_limits"]
    assert (router["redis_host"], router["redis_password"]) == shared


def test_clickhouse_user_password_is_the_one_langfuse_uses(stack_run):
    from rendered import k8s

    (config,) = k8s(stack_run, "ConfigMap", "clickhouse-config")
    users_xml = config.inputs["data"]["langfuse-user.xml"]
    (variable,) = re.findall(r'<password from_env="(\w+)"/>', users_xml)
    clickhouse = env(stack_run, "clickhouse")
    # the image's entrypoint rewrites users.d when CLICKHOUSE_PASSWORD is set: never set it there
    assert "CLICKHOUSE_PASSWORD" not in clickhouse
    assert clickhouse[variable] == env(stack_run, "langfuse")["CLICKHOUSE_PASSWORD"]
    assert env(stack_run, "langfuse")["CLICKHOUSE_USER"] == "langfuse" and "<langfuse>" in users_xml
