"""No unclaimed admin, against the real Open WebUI 0.12.4: started on loopback with the env the
dev stack renders (WEBUI_ADMIN_EMAIL / WEBUI_ADMIN_PASSWORD from its Secret, ENABLE_SIGNUP), the
program's admin signs in and nobody else can sign up first.

Needs an interpreter with open-webui 0.12.4 (slim: `pip install --no-deps open-webui==0.12.4`, then
its requirements-slim.txt) named by OPEN_WEBUI_PYTHON; skipped without it (the project's venv does
not carry Open WebUI's ~300 dependencies).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from test_front_door import env_of, resolved

PYTHON = os.environ.get("OPEN_WEBUI_PYTHON", "")
pytestmark = pytest.mark.skipif(not Path(PYTHON).is_file(), reason="OPEN_WEBUI_PYTHON (open-webui 0.12.4) not set")
RENDERED = ("WEBUI_ADMIN_EMAIL", "WEBUI_ADMIN_PASSWORD", "WEBUI_ADMIN_NAME", "ENABLE_SIGNUP", "WEBUI_URL",
            "ENABLE_PERSISTENT_CONFIG", "ENABLE_OLLAMA_API")


def _post(url: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


@pytest.fixture(scope="module")
def open_webui(dev, tmp_path_factory):
    rendered = env_of(dev, "open-webui")
    env = {name: resolved(dev, rendered[name]) for name in RENDERED}
    site = Path(subprocess.check_output([PYTHON, "-c", "import open_webui,os;print(os.path.dirname(open_webui.__file__))"],
                                        text=True).strip())
    data = tmp_path_factory.mktemp("open-webui")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env |= {"PATH": os.environ["PATH"], "HOME": str(data), "DATA_DIR": str(data), "STATIC_DIR": str(data / "static"),
            "FRONTEND_BUILD_DIR": str(site / "frontend"), "WEBUI_SECRET_KEY": "loopback-test-key", "OFFLINE_MODE": "true",
            "HF_HUB_OFFLINE": "1", "USE_SLIM_DOCKER": "true", "ANONYMIZED_TELEMETRY": "False"}
    proc = subprocess.Popen([PYTHON, "-m", "uvicorn", "open_webui.main:app", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=2):
                    break
            except OSError:
                time.sleep(1)
        else:
            pytest.fail("Open WebUI did not start in 4 minutes")
        yield base, env
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_the_rendered_admin_signs_in_and_nobody_signs_up_first(open_webui):
    base, env = open_webui
    status, body = _post(f"{base}/api/v1/auths/signin",
                         {"email": env["WEBUI_ADMIN_EMAIL"], "password": env["WEBUI_ADMIN_PASSWORD"]})
    assert status == 200 and body["role"] == "admin" and body["email"] == env["WEBUI_ADMIN_EMAIL"]
    status, _ = _post(f"{base}/api/v1/auths/signup",
                      {"name": "early bird", "email": "first@example.com", "password": "Arrived-first-1"})
    assert status == 403
    status, _ = _post(f"{base}/api/v1/auths/signin", {"email": env["WEBUI_ADMIN_EMAIL"], "password": "wrong"})
    assert status in (400, 401)
