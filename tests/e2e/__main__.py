"""`make e2e`: the user's path with real software, on loopback, as the dev stack renders it.

Started here, stopped on the way out: PostgreSQL 18 + pgvector initialised from the rendered init
ConfigMap (tests/postgres_server.py), the gateway harness (tests/gateway/loopback.py: the real
LiteLLM proxy with the rendered config and env, Redis with the rendered password, the vLLM and
Bedrock stand-ins, the Langfuse OTLP capture), the agent server (agent_server/, its own venv) and
the real Open WebUI 0.12.4 (its own venv) with the rendered Deployment's env. Then headless
Chromium signs in and chats with a self-hosted model, a Bedrock model and an agent.

Not run here, and not faked: Langfuse itself (its web/worker images and ClickHouse are not
installable here: the OTLP capture stands in for its ingestion endpoint) and LiteLLM's database
mode (Prisma engines are downloaded at run time; its migrations are applied in
tests/test_database_rendered.py instead). Uploads would go to S3 and are not exercised.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

from tests.e2e import stack as st
from tests.e2e.checks import check_open_webui_database, check_traces, echo_prompts
from tests.e2e.processes import service, service_env
from tests.gateway import loopback as lb
from tests.postgres_server import free_port, run_postgres
from tests.rendered import postgres_init
from tools.offline.engine import run_stack

REPO = Path(__file__).resolve().parents[2]
# What `open-webui serve` sets before importing the app (open_webui/__init__.py): paths from the package
PROBE_ENV = {"FROM_INIT_PY": "true"}


def host_port(url: str) -> str:
    return urlsplit(url).netloc.rpartition("@")[2]


def run(out: Path, webui_python: Path, agent_python: Path) -> None:
    started = time.monotonic()
    out.mkdir(parents=True, exist_ok=True)
    work = out / "work"
    work.mkdir(exist_ok=True)
    rendered = run_stack("dev")
    files, pg_env = postgres_init(rendered)
    gateway_rendered = lb.RenderedGateway.from_run(rendered)
    with contextlib.ExitStack() as stack:
        pg = stack.enter_context(run_postgres(files, pg_env))
        gw = stack.enter_context(lb.run_gateway(gateway_rendered, work / "gateway",
                                                extra_env={"OTEL_BSP_SCHEDULE_DELAY": "200"}, startup_timeout=240))
        redis = gw.redis_client()
        for key, value in st.redis_settings(rendered).items():  # the rendered arguments, on the running Redis
            redis.config_set(key, value)
        vllm_model = next(iter(gw.vllm))
        bedrock_model = next(iter(gw.bedrock_ids))
        echo_prompts(gw)
        services = {"litellm": host_port(gw.url), "postgres": f"{pg.host}:{pg.port}",
                    "custom-server": f"127.0.0.1:{free_port()}", "langfuse": host_port(gw.otlp.url),
                    "cache-redis": f"{gw.redis.host}:{gw.redis.port}"}
        lf = gateway_rendered.langfuse_env
        langfuse = {"LANGFUSE_HOST": gw.otlp.url, "LANGFUSE_PUBLIC_KEY": lf["LANGFUSE_INIT_PROJECT_PUBLIC_KEY"],
                    "LANGFUSE_SECRET_KEY": lf["LANGFUSE_INIT_PROJECT_SECRET_KEY"], "OTEL_BSP_SCHEDULE_DELAY": "200"}
        agent_env = st.agent_env(rendered, services, pg.url("agentserver", pg_env["AGENTSERVER_DB_PASSWORD"]),
                                 vllm_model, langfuse)
        agent_url = f"http://{services['custom-server']}"
        stack.enter_context(service("agent server", [str(agent_python), "-m", "agent_server"],
                                    agent_env | {"PYTHONPATH": str(REPO)}, f"{agent_url}/ready",
                                    work / "agent-server.log", cwd=REPO))
        webui_port = free_port()
        webui_env = st.webui_env(rendered, services, str(work / "open-webui"))
        (work / "open-webui").mkdir(exist_ok=True)
        base = f"http://127.0.0.1:{webui_port}"
        webui = Path(webui_python).parent / "open-webui"
        stack.enter_context(service("Open WebUI", [str(webui), "serve", "--host", "127.0.0.1", "--port", str(webui_port)],
                                    webui_env, f"{base}/health/db", work / "open-webui.log", cwd=work / "open-webui",
                                    timeout=300))
        print(f"e2e: services up in {time.monotonic() - started:.0f}s", flush=True)
        token = uuid.uuid4().hex[:8]
        agent_name = "research-assistant"
        chats = [
            {"label": "self-hosted", "model": vllm_model, "prompt": f"e2e self-hosted {token}"},
            {"label": "bedrock", "model": bedrock_model, "prompt": f"e2e bedrock {token}"},
            {"label": "agent", "model": agent_name, "prompt": f"e2e agent {token}"},
        ]
        # the stand-ins echo the prompt (checks.echo_prompts); the agent answers with its AGENT_MODEL's words
        agent_backend = "Bedrock" if agent_env["AGENT_MODEL"] in gw.bedrock_ids else "vLLM"
        for chat in chats:
            backend = {"bedrock": "Bedrock", "agent": agent_backend}.get(chat["label"], "vLLM")
            chat["expected"] = f"{backend} stub answers: {chat['prompt']}"
        admin = st.admin_credentials(webui_env)
        result = subprocess.run(
            [str(webui_python), str(REPO / "tests" / "e2e" / "browser.py"), base, admin["WEBUI_ADMIN_EMAIL"],
             admin["WEBUI_ADMIN_PASSWORD"], str(out), json.dumps(chats)],
            capture_output=True, text=True, timeout=600, cwd=REPO)
        if result.returncode:
            raise SystemExit(f"e2e: the browser run failed (screenshot {out / 'failure.png'}):\n"
                             f"{result.stdout}\n{result.stderr[-6000:]}")
        seen = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
        for item in seen:
            print(f"e2e: {item['model']}: answer on screen in chat {item['chat_id']}", flush=True)
        probe = subprocess.run([str(webui_python), str(REPO / "tests" / "e2e" / "pgvector_probe.py")],
                               env=service_env(webui_env | PROBE_ENV), capture_output=True, text=True, timeout=300,
                               cwd=work / "open-webui")
        assert probe.returncode == 0, f"Open WebUI's pgvector store failed:\n{probe.stderr[-4000:]}"
        assert json.loads(probe.stdout.strip().splitlines()[-1]) == ["near", "far"], probe.stdout
        owui_password = pg_env["OPENWEBUI_DB_PASSWORD"]
        user_id = check_open_webui_database(pg, owui_password, admin["WEBUI_ADMIN_EMAIL"])
        spans = [{k: v for k, v in span.items() if k != "authorization"} for span in gw.otlp.spans]
        (out / "otlp-spans.json").write_text(json.dumps(spans, indent=1, default=str))
        for chat, item in zip(chats, seen):
            chat["chat_id"] = item["chat_id"]
        task_model = webui_env.get("TASK_MODEL_EXTERNAL")
        assert task_model, "Open WebUI's rendered env names no task model: its tasks would run on the chat's agent"
        task_backend = "Bedrock" if task_model in gw.bedrock_ids else "vLLM"
        check_traces(gw.otlp, user_id, chats, task_backend)
    print(f"e2e: passed in {time.monotonic() - started:.0f}s; screenshots in {out}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.e2e", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("out/e2e"))
    parser.add_argument("--webui-python", type=Path, default=REPO / ".venv-webui" / "bin" / "python")
    parser.add_argument("--agent-python", type=Path, default=REPO / ".venv-agent" / "bin" / "python")
    args = parser.parse_args()
    try:
        run(args.out.resolve(), args.webui_python.absolute(), args.agent_python.absolute())
    except (AssertionError, RuntimeError, TimeoutError) as exc:
        sys.exit(f"e2e: FAILED: {exc}")


if __name__ == "__main__":
    main()
