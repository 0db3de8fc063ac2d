"""LiteLLM's key admin API as a stand-in (the real one needs its database, which cannot run here).

Implements what ``components/apps/files/provision_gateway_keys.py`` calls, with the rules of
litellm 1.106.2 ``proxy/management_endpoints/key_management_endpoints.py`` that matter to it:
master-key auth (401 otherwise); ``/key/update`` 404 "Key not found." for an unknown key;
``/key/generate`` refuses a pre-set key not starting with ``sk-`` or shorter than 16 characters
and an alias another key already holds; ``/key/delete`` by ``key_aliases``. It also answers chat
requests for the keys it holds, so a test can see a revoked key stop working.
"""

from __future__ import annotations

from typing import Any

from tests.gateway.http_stub import RecordedRequest, Response, StubServer

MIN_KEY_LENGTH = 16  # litellm constants.MINIMUM_CUSTOM_KEY_LENGTH


class KeyAdminStub(StubServer):
    """``keys``: key value -> its row (alias and limits)."""

    name = "litellm-admin"

    def __init__(self, master_key: str, port: int = 0) -> None:
        super().__init__(port)
        self.master_key = master_key
        self.keys: dict[str, dict[str, Any]] = {}
        self.ready = True

    def route(self, request: RecordedRequest) -> Response:
        if request.path == "/health/readiness":
            return Response.json({"status": "healthy"} if self.ready else {"status": "starting"}, status=200 if self.ready else 503)
        token = (request.header("authorization") or "").removeprefix("Bearer ")
        if request.path == "/v1/chat/completions":
            if token not in self.keys and token != self.master_key:
                return Response.json({"error": {"message": "Invalid proxy server token passed"}}, status=401)
            return Response.json({"choices": [{"message": {"role": "assistant", "content": "ok"}}]})
        if token != self.master_key:
            return Response.json({"error": {"message": "Authentication Error"}}, status=401)
        body = request.json or {}
        handler = {"/key/update": self._update, "/key/generate": self._generate, "/key/delete": self._delete}.get(request.path)
        return handler(body) if handler else Response.json({"detail": "Not Found"}, status=404)

    def _update(self, body: dict[str, Any]) -> Response:
        key = body.get("key")
        if key not in self.keys:
            return Response.json({"error": {"message": "Key not found.", "type": "not_found_error"}}, status=404)
        self.keys[key].update({k: v for k, v in body.items() if k != "key"})
        return Response.json({"key": key, **self.keys[key]})

    def _generate(self, body: dict[str, Any]) -> Response:
        key, alias = body.get("key"), body.get("key_alias")
        if key is not None and not key.startswith("sk-"):
            return Response.json({"error": "Invalid key format. LiteLLM Virtual Key must start with 'sk-'."}, status=400)
        if key is not None and len(key) < MIN_KEY_LENGTH:
            return Response.json({"error": "Invalid key format: too short"}, status=400)
        if alias is not None and any(row.get("key_alias") == alias for row in self.keys.values()):
            return Response.json({"error": f"Unique key aliases across all keys are required. Key alias={alias} already exists."}, status=400)
        self.keys[key] = {k: v for k, v in body.items() if k != "key"}
        return Response.json({"key": key, **self.keys[key]})

    def _delete(self, body: dict[str, Any]) -> Response:
        aliases = set(body.get("key_aliases") or [])
        doomed = [k for k, row in self.keys.items() if row.get("key_alias") in aliases or k in (body.get("keys") or [])]
        if not doomed:
            return Response.json({"error": {"message": "Key not found.", "type": "not_found_error"}}, status=404)
        for key in doomed:
            del self.keys[key]
        return Response.json({"deleted_keys": doomed})
