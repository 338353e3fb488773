"""The explorer never returns a token (issue 14, reproduction 5).

Some Clockify operations answer with tokens: the add-on's webhooks (each with its ``authToken``),
a workspace webhook's new token, the user-token exchange. A member must not get them through the
explorer, and the call log must not keep them. A tiny Clockify fake on loopback answers them here
(the stand-in has no webhook APIs); the operations come from a synced OpenAPI document.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import call_command

from explorer.models import ExplorerCall
from installations.models import Installation

pytestmark = pytest.mark.django_db

_OP = {"responses": {"200": {"description": "ok"}}}
DOCUMENT = {
    "openapi": "3.0.1", "info": {"title": "Webhooks", "version": "1"},
    "paths": {
        "/v1/workspaces/{workspaceId}/addons/{addonId}/webhooks": {"get": {
            "operationId": "getAddonWebhooks", "summary": "Add-on webhooks", **_OP,
            "parameters": [{"name": "workspaceId", "in": "path", "required": True, "schema": {"type": "string"}},
                           {"name": "addonId", "in": "path", "required": True, "schema": {"type": "string"}}]}},
        "/v1/workspaces/{workspaceId}/webhooks/{webhookId}/token": {"patch": {
            "operationId": "generateNewToken", "summary": "New webhook token", **_OP,
            "parameters": [{"name": "workspaceId", "in": "path", "required": True, "schema": {"type": "string"}},
                           {"name": "webhookId", "in": "path", "required": True, "schema": {"type": "string"}}]}},
        "/v1/user": {"get": {"operationId": "getLoggedUser", "summary": "me", **_OP}},
    },
}


class FakeClockify:
    """Answers every request with ``answers[path suffix]`` (JSON, or text when a str)."""

    def __init__(self, answers: dict[str, object]) -> None:
        fake = self
        self.answers = answers

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _answer(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = next((v for k, v in fake.answers.items() if self.path.split("?")[0].endswith(k)), {})
                raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain" if isinstance(body, str) else "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_PATCH = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def backend_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhooks_explorer(make_workspace, client, tmp_path):
    """An Enterprise installation whose Clockify is the fake, with the document above synced."""
    doc = tmp_path / "webhooks.json"
    doc.write_text(json.dumps(DOCUMENT))
    call_command("sync_openapi", "--source", f"file://{doc}")
    ws = make_workspace("universal-webhook", workspace_id="64d0c10c00000000000000aa")
    fake = FakeClockify({})
    ws.minter.backend_url = fake.backend_url
    body = ws.installed_body()
    assert ws.lifecycle(client, "INSTALLED", body).status_code == 200
    hook_token = body["webhooks"][0]["authToken"]
    fake.answers.update({
        "/webhooks": [{"id": "wh1", "name": "hook", "url": "https://example.test/a", "webhookEvent": "NEW_PROJECT",
                       "authToken": hook_token, "enabled": True, "userId": "u1",
                       "triggerSourceType": "WORKSPACE_ID", "nested": {"token": "opaque-secret-value-123",
                                                                       "apiToken": hook_token,
                                                                       "tokens": 3}}],
        "/token": {"id": "wh1", "authToken": hook_token},
        "/v1/user": {"id": "u1", "name": "Ann", "note": f"pasted {hook_token} here"},
    })
    yield ws, hook_token, Installation.objects.get(workspace_id=ws.workspace_id)
    fake.stop()


def _execute(client, ws, operation: str, role: str = "OWNER", **fields):
    token = ws.minter.user_token(role=role)
    return client.post("/universal-webhook/api/v1/explorer/execute", data={"operation": operation, **fields},
                       content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.mark.parametrize("operation, fields", [
    ("getAddonWebhooks", {"params": {"addonId": "addon-x"}}),
    ("generateNewToken", {"params": {"webhookId": "wh1"}, "confirm": True}),
    ("getLoggedUser", {}),
])
def test_the_explorer_never_returns_a_token(client, webhooks_explorer, operation, fields):
    ws, hook_token, installation = webhooks_explorer
    response = _execute(client, ws, operation, **fields)
    assert response.status_code == 200, response.content
    result = response.json()
    assert result["status"] == 200
    text = response.content.decode()
    assert hook_token not in text and hook_token.rsplit(".", 1)[1] not in text
    assert "opaque-secret-value-123" not in text
    if operation == "getAddonWebhooks":
        [hook] = result["body"]
        assert hook["authToken"] == "[redacted]" and hook["nested"]["token"] == "[redacted]"
        assert hook["nested"]["apiToken"] == "[redacted]" and hook["nested"]["tokens"] == 3  # not a secret
        assert hook["url"] == "https://example.test/a" and hook["name"] == "hook"
    calls = client.get("/universal-webhook/api/v1/explorer/calls",
                       HTTP_AUTHORIZATION=f"Bearer {ws.minter.user_token()}").content.decode()
    assert operation in calls and hook_token not in calls and "opaque-secret-value-123" not in calls
    for call in ExplorerCall.objects.filter(installation=installation):
        stored = json.dumps([call.response_excerpt, call.request_summary])
        assert hook_token not in stored and "opaque-secret-value-123" not in stored
