"""Create or update one LiteLLM virtual key per gateway client, idempotently (run by a Job).

Standard library only: it runs with the python of the LiteLLM image. Environment:
  LITELLM_URL         the gateway's base URL (http://litellm.<ns>.svc.cluster.local:4000)
  LITELLM_MASTER_KEY  the admin key (this Job is its only user besides the gateway)
  GATEWAY_CLIENTS     JSON list: {"key_alias", "key_file", and /key/generate limit fields}
  HEARTBEAT_FILE      touched at every step; the pod's probes fail when it goes stale (a hung call)
Each client's key value is read from its key_file (a mounted Secret) and never printed.

Per client: POST /key/update with the key (sets the limits when it exists); on 404 (a new or
rotated key) the keys holding the alias are deleted (the old value stops working) and
POST /key/generate creates it with the given value. Exit 1 on anything else.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request

LIMIT_FIELDS = ("rpm_limit", "tpm_limit", "max_parallel_requests", "max_budget", "budget_duration", "metadata")


class AdminError(RuntimeError):
    """The admin API answered something this script cannot handle."""


def beat() -> None:
    """Show the probes this script is alive."""
    path = os.environ.get("HEARTBEAT_FILE")
    if path:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(str(time.time()))


def call(base: str, master_key: str, path: str, body: dict | None = None, timeout: float = 30) -> tuple[int, dict]:
    """One admin API call; returns (status, JSON body)."""
    beat()
    request = urllib.request.Request(
        f"{base}{path}", method="POST" if body is not None else "GET",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {master_key}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read()
    try:
        return status, json.loads(raw or b"{}")
    except ValueError:
        return status, {"raw": raw.decode(errors="replace")[:500]}


def wait_ready(base: str, deadline_s: float) -> None:
    deadline = time.monotonic() + deadline_s
    while True:
        beat()
        try:
            with urllib.request.urlopen(f"{base}/health/readiness", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise AdminError(f"{base} not ready after {deadline_s:.0f}s")
        time.sleep(2)


def ensure_key(base: str, master_key: str, client: dict) -> str:
    """Make the client's key exist with its limits; returns what was done."""
    alias = client["key_alias"]
    with open(client["key_file"], encoding="utf-8") as handle:
        key = handle.read().strip()
    limits = {field: client[field] for field in LIMIT_FIELDS if client.get(field) is not None}
    status, body = call(base, master_key, "/key/update", {"key": key, "key_alias": alias, **limits})
    if status == 200:
        return "updated"
    if status != 404:
        raise AdminError(f"{alias}: /key/update answered {status}: {json.dumps(body)[:500]}")
    # A new or rotated key: revoke whatever holds the alias, then create the key with its value
    status, body = call(base, master_key, "/key/delete", {"key_aliases": [alias]})
    if status not in (200, 404):
        raise AdminError(f"{alias}: /key/delete answered {status}: {json.dumps(body)[:500]}")
    status, body = call(base, master_key, "/key/generate", {"key": key, "key_alias": alias, **limits})
    if status != 200:
        raise AdminError(f"{alias}: /key/generate answered {status}: {json.dumps(body)[:500]}")
    return "created"


def main() -> int:
    base = os.environ["LITELLM_URL"].rstrip("/")
    master_key = os.environ["LITELLM_MASTER_KEY"]
    clients = json.loads(os.environ["GATEWAY_CLIENTS"])
    try:
        wait_ready(base, float(os.environ.get("READY_TIMEOUT_SECONDS", "600")))
        for client in clients:
            print(f"{client['key_alias']}: {ensure_key(base, master_key, client)}", flush=True)
    except AdminError as err:
        print(f"gateway key provisioning failed: {err}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
