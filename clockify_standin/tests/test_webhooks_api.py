"""The stand-in's webhooks API has the shapes of Clockify's OpenAPI document, refuses what Clockify
would, and delivers workspace webhooks the way Clockify does."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
import yaml

from clockify_standin.testing import hex_id
from clockify_standin.tests.test_server import minter_for

OFFICIAL = Path(__file__).resolve().parents[2].parent / "shared" / "clockify" / "clockify-openapi-official-v1.yaml"
# WebhookDtoV1 / WebhooksDtoV1 of the official document (checked against it when it is present).
WEBHOOK_DTO = {"authToken", "deliveryEnabled", "enabled", "id", "name", "planEnabled", "triggerSource",
               "triggerSourceType", "url", "userId", "webhookEvent", "workspaceId"}
WEBHOOKS_DTO = {"webhooks", "workspaceWebhookCount"}


@pytest.fixture
def ws(standin, clockify_keys):
    workspace_id = hex_id()
    standin.seed_workspace(workspace_id, size=20)
    minter = minter_for(clockify_keys, workspace_id, standin.backend_url)
    session = requests.Session()
    session.headers["X-Addon-Token"] = minter.installation_token()
    root = f"{standin.backend_url}/v1/workspaces/{workspace_id}"

    def call(method: str, path: str, **kwargs):
        return session.request(method, root + path, timeout=10, **kwargs)

    call.workspace_id, call.minter = workspace_id, minter
    yield call
    session.close()


def _create_body(**overrides):
    body = {"name": "split", "url": "https://addons.example.com/uw/webhooks/time-entry-split",
            "webhookEvent": "TIME_ENTRY_SPLIT", "triggerSourceType": "WORKSPACE_ID", "triggerSource": ["w"]}
    body.update(overrides)
    return body


@pytest.mark.skipif(not OFFICIAL.exists(), reason="../shared/clockify not present")
def test_the_shapes_are_the_official_documents():
    schemas = yaml.safe_load(OFFICIAL.read_text())["components"]["schemas"]
    assert set(schemas["WebhookDtoV1"]["properties"]) == WEBHOOK_DTO
    assert set(schemas["WebhooksDtoV1"]["properties"]) == WEBHOOKS_DTO


def test_create_list_get_delete(ws):
    created = ws("POST", "/webhooks", json=_create_body())
    assert created.status_code == 201 and set(created.json()) == WEBHOOK_DTO
    hook = created.json()
    assert hook["authToken"] and hook["planEnabled"] is True and hook["workspaceId"] == ws.workspace_id
    listed = ws("GET", "/webhooks")
    assert set(listed.json()) == WEBHOOKS_DTO and listed.json()["workspaceWebhookCount"] == 1
    assert [h["id"] for h in ws("GET", "/webhooks", params={"type": "USER_CREATED"}).json()["webhooks"]] == [hook["id"]]
    assert ws("GET", f"/webhooks/{hook['id']}").json() == hook
    assert ws("DELETE", f"/webhooks/{hook['id']}").status_code == 200
    assert ws("DELETE", f"/webhooks/{hook['id']}").status_code == 404
    assert ws("GET", "/webhooks").json() == {"webhooks": [], "workspaceWebhookCount": 0}


@pytest.mark.parametrize("body", [
    _create_body(webhookEvent="NOT_AN_EVENT"), _create_body(triggerSourceType="GALAXY_ID"),
    _create_body(name="x" * 31), _create_body(url="ftp://x"), {"url": "https://x", "webhookEvent": "NEW_TAG"},
])
def test_bad_create_requests_are_400_and_create_nothing(ws, body):
    response = ws("POST", "/webhooks", json=body)
    assert response.status_code == 400 and response.json()["message"]
    assert ws("GET", "/webhooks").json()["webhooks"] == []


def test_past_the_workspaces_allowance_creation_is_refused(ws, standin):
    standin.set_webhook_limit(ws.workspace_id, 1)
    assert ws("POST", "/webhooks", json=_create_body()).status_code == 201
    refused = ws("POST", "/webhooks", json=_create_body(webhookEvent="EXPENSE_RESTORED"))
    assert refused.status_code == 400 and "limit" in refused.json()["message"]


def test_addon_webhooks_are_listed_only_to_their_add_on(ws, standin, clockify_keys):
    addon_id = ws.minter.addon_id
    standin.set_addon_webhooks(ws.workspace_id, addon_id, [
        {"webhookEvent": "NEW_TAG", "url": "https://addons.example.com/uw/webhooks/new-tag", "authToken": "tok"}])
    mine = ws("GET", f"/addons/{addon_id}/webhooks")
    assert mine.status_code == 200 and [h["authToken"] for h in mine.json()["webhooks"]] == ["tok"]
    assert ws("GET", f"/addons/{hex_id()}/webhooks").status_code == 403
    # Add-on webhooks are not workspace webhooks: not counted, not deleted through the webhooks API.
    assert ws("GET", "/webhooks").json()["workspaceWebhookCount"] == 0
    assert ws("DELETE", f"/webhooks/{mine.json()['webhooks'][0]['id']}").status_code == 404


def test_deliveries_carry_the_webhooks_own_token_and_the_event_type(ws, standin):
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, dict(self.headers), json.loads(body)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        hook = ws("POST", "/webhooks", json=_create_body(url=url)).json()
        ws("POST", "/webhooks", json=_create_body(url=url, webhookEvent="COST_RATE_UPDATED"))
        assert standin.deliver_workspace_webhooks(ws.workspace_id, "TIME_ENTRY_SPLIT") == [(hook["id"], 200)]
    finally:
        server.shutdown()
        server.server_close()
    [(path, headers, body)] = received
    assert path == "/hook" and headers["clockify-signature"] == hook["authToken"]
    assert headers["clockify-webhook-event-type"] == "TIME_ENTRY_SPLIT" and body["workspaceId"] == ws.workspace_id
