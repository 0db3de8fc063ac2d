"""`make e2e`: the user's path with real software, on loopback, as the dev stack renders it.

Started here, stopped on the way out: PostgreSQL 18 + pgvector initialised from the rendered init
ConfigMap (tests/postgres_server.py), the gateway harness (tests/gateway/loopback.py: the real
LiteLLM proxy with the rendered config and env, Redis with the rendered password, the vLLM and
Bedrock stand-ins, the Langfuse OTLP capture), the agent server (agent_server/, its own venv) and
the real Open WebUI 0.12.4 (its own venv) with the rendered Deployment's env. Then headless
Chromium signs in and chats with a self-hosted model, a Bedrock model and an agent. Side by side:
PostgreSQL initialises while the gateway's stand-ins start; the agent server, Open WebUI and Chromium
start (their ports chosen up front) while the LiteLLM proxy imports; readiness is polled after.

Not run here, and not faked: Langfuse itself (its web/worker images and ClickHouse are not
installable here: the OTLP capture stands in for its ingestion endpoint) and LiteLLM's database
mode (Prisma engines are downloaded at run time; its migrations are applied in
tests/test_database_rendered.py instead). Uploads would go to S3 and are not exercised.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.e2e import stack as st
from tests.e2e.checks import check_open_webui_database, check_traces, echo_prompts
from tests.e2e.processes import Clock, in_background, service_env, start_service, stop
from tests.gateway import loopback as lb
from tests.postgres_server import free_port, run_postgres
from tests.rendered import postgres_init
from tools.offline.engine import run_stack

REPO = Path(__file__).resolve().parents[2]
# What `open-webui serve` sets before importing the app (open_webui/__init__.py): paths from the package
PROBE_ENV = {"FROM_INIT_PY": "true"}


def host_port(url: str) -> str:
    return urlsplit(url).netloc.rpartition("@")[2]


@contextlib.contextmanager
def start_browser(webui_python: Path, base: str, admin: dict[str, str], out: Path) -> Iterator[subprocess.Popen]:
    """browser.py launches Chromium now and signs in when it gets the chats (a line on stdin); always
    stopped (its own session: Playwright's driver and Chromium go with it)."""
    with open(out / "work" / "browser.log", "wb") as log:
        process = subprocess.Popen(
            [str(webui_python), str(REPO / "tests" / "e2e" / "browser.py"), base, admin["WEBUI_ADMIN_EMAIL"],
             admin["WEBUI_ADMIN_PASSWORD"], str(out)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True, cwd=REPO, start_new_session=True)
    try:
        yield process
    finally:
        stop(process)


def run(out: Path, webui_python: Path, agent_python: Path) -> None:
    clock = Clock()
    out.mkdir(parents=True, exist_ok=True)
    work = out / "work"
    work.mkdir(exist_ok=True)
    rendered = run_stack("dev")
    files, pg_env = postgres_init(rendered)
    gateway_rendered = lb.RenderedGateway.from_run(rendered)
    clock.lap("rendered the dev stack")
    # Ports chosen up front: the agent server and Open WebUI start while the LiteLLM proxy imports
    # (they need its URL, not a live proxy, to start); readiness is awaited after.
    litellm_port, agent_port, webui_port = free_port(), free_port(), free_port()
    agent_url, base = f"http://127.0.0.1:{agent_port}", f"http://127.0.0.1:{webui_port}"
    vllm_model = lb.vllm_models(gateway_rendered.config)[0]  # the gateway's first vLLM stand-in (gw.vllm)
    started: dict[str, Any] = {}
    with contextlib.ExitStack() as stack:
        pg_start = stack.enter_context(in_background(run_postgres(files, pg_env)))

        @contextlib.contextmanager
        def clients(otlp_url: str, redis_address: str) -> Iterator[None]:
            """Once PostgreSQL is up: the agent server, Open WebUI and the browser, none awaited."""
            with contextlib.ExitStack() as own:
                pg = started["pg"] = pg_start.result()
                clock.lap(f"PostgreSQL 18 up on port {pg.port}")
                services = {"litellm": f"127.0.0.1:{litellm_port}", "postgres": f"{pg.host}:{pg.port}",
                            "custom-server": f"127.0.0.1:{agent_port}", "langfuse": host_port(otlp_url),
                            "cache-redis": redis_address}
                lf = gateway_rendered.langfuse_env
                langfuse = {"LANGFUSE_HOST": otlp_url, "LANGFUSE_PUBLIC_KEY": lf["LANGFUSE_INIT_PROJECT_PUBLIC_KEY"],
                            "LANGFUSE_SECRET_KEY": lf["LANGFUSE_INIT_PROJECT_SECRET_KEY"], "OTEL_BSP_SCHEDULE_DELAY": "200"}
                agent_env = started["agent_env"] = st.agent_env(
                    rendered, services, pg.url("agentserver", pg_env["AGENTSERVER_DB_PASSWORD"]), vllm_model, langfuse)
                started["agent"] = own.enter_context(start_service(
                    "agent server", [str(agent_python), "-m", "agent_server"], agent_env | {"PYTHONPATH": str(REPO)},
                    f"{agent_url}/ready", work / "agent-server.log", cwd=REPO))
                webui_env = started["webui_env"] = st.webui_env(rendered, services, str(work / "open-webui"))
                (work / "open-webui").mkdir(exist_ok=True)
                started["webui"] = own.enter_context(start_service(
                    "Open WebUI", [str(Path(webui_python).parent / "open-webui"), "serve", "--host", "127.0.0.1",
                                   "--port", str(webui_port)],
                    webui_env, f"{base}/health/db", work / "open-webui.log", cwd=work / "open-webui"))
                started["admin"] = st.admin_credentials(webui_env)
                started["browser"] = own.enter_context(start_browser(webui_python, base, started["admin"], out))
                clock.lap("started the agent server, Open WebUI and Chromium")
                yield

        def start_clients(otlp, redis_server) -> None:
            """Called once the OTLP capture and Redis are up, just before the proxy starts."""
            started["clients"] = stack.enter_context(
                in_background(clients(otlp.url, f"{redis_server.host}:{redis_server.port}")))
            clock.lap("gateway stand-ins and Redis up; starting the LiteLLM proxy")

        gw = stack.enter_context(lb.run_gateway(gateway_rendered, work / "gateway", proxy_port=litellm_port,
                                                before_proxy=start_clients,
                                                extra_env={"OTEL_BSP_SCHEDULE_DELAY": "200"}, startup_timeout=240))
        clock.lap("LiteLLM proxy ready")
        started["clients"].result()
        pg, agent_env, webui_env, admin = started["pg"], started["agent_env"], started["webui_env"], started["admin"]
        redis = gw.redis_client()
        for key, value in st.redis_settings(rendered).items():  # the rendered arguments, on the running Redis
            redis.config_set(key, value)
        assert vllm_model == next(iter(gw.vllm)), (vllm_model, gw.vllm)
        bedrock_model = next(iter(gw.bedrock_ids))
        echo_prompts(gw)
        started["agent"].wait_ready(180)
        clock.lap("agent server ready")
        started["webui"].wait_ready(300)
        clock.lap("Open WebUI ready (migrated)")
        # Open WebUI's pgvector store, probed while the browser chats (its own collection)
        probe_run = stack.enter_context(concurrent.futures.ThreadPoolExecutor(1)).submit(
            subprocess.run, [str(webui_python), str(REPO / "tests" / "e2e" / "pgvector_probe.py")],
            env=service_env(webui_env | PROBE_ENV), capture_output=True, text=True, timeout=300, cwd=work / "open-webui")
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
        try:
            stdout, _ = started["browser"].communicate(json.dumps(chats) + "\n", timeout=600)
        except subprocess.TimeoutExpired:
            raise TimeoutError("e2e: the browser run took over 600s") from None
        if started["browser"].returncode:
            log = (work / "browser.log").read_text(errors="replace")[-6000:]
            raise SystemExit(f"e2e: the browser run failed (screenshot {out / 'failure.png'}):\n{stdout}\n{log}")
        clock.lap("3 chats answered on screen")
        lines = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
        seen = [item for item in lines if "chat_id" in item]
        for item in lines:
            print(f"e2e: signed in to Open WebUI in {item['signed_in']}s" if "signed_in" in item else
                  f"e2e: {item['model']}: answer on screen in chat {item['chat_id']} ({item['seconds']}s)", flush=True)
        probe = probe_run.result()
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
        clock.lap("database and trace checks")
    clock.lap(f"passed, everything stopped; screenshots in {out}")


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
