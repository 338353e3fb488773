"""Every endpoint x every kind of Clockify token (issue 14): each endpoint takes only its own kind.

All tokens below are genuine: signed with Clockify's (the test) key, for this add-on, workspace
and installation. Only their kind differs. A refused call is a 4xx that changes nothing and
writes neither the token nor its signature to any log line.
"""

from __future__ import annotations

import json
import time

import pytest

from addons.manifest import webhook_path
from installations import crypto
from installations.models import Installation, WebhookSubscription
from webhooks import lookup
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db

KINDS = ("user", "member", "installation", "lifecycle", "webhook", "unknown")

# Written out on purpose (not read from addons.tokens): this is what each endpoint must do.
ACCEPTS = {
    "lifecycle INSTALLED": {"lifecycle"},
    "lifecycle DELETED": {"lifecycle"},
    "lifecycle STATUS_CHANGED": {"lifecycle"},
    "lifecycle SETTINGS_UPDATED": {"lifecycle"},
    "clockify webhook": {"webhook"},
    "custom webhook": set(),
    "page": {"user", "member"},
    "page xhr": {"user", "member"},
    "json api": {"user", "member"},
}


def _token(ws, kind: str) -> str:
    minter = ws.minter
    return {
        "user": lambda: minter.user_token(role="OWNER"),
        "member": lambda: minter.user_token(role="USER", user_id="member-1"),
        "installation": lambda: minter.installation_token(),
        "lifecycle": lambda: minter.lifecycle_token(),
        "webhook": lambda: ws.installed_body()["webhooks"][0]["authToken"],  # one the installation stored
        "unknown": lambda: minter.sign(minter.base_claims(backendUrl=minter.backend_url, exp=9_999_999_999)),
    }[kind]()


def _state(ws) -> tuple:
    installation = Installation.objects.get(variant=ws.variant.slug, workspace_id=ws.workspace_id)
    return (installation.status, installation.settings, installation.token_encrypted and
            crypto.decrypt(installation.token_encrypted),
            sorted(WebhookSubscription.objects.filter(installation=installation).values_list("path", "token_sha256")),
            WebhookEvent.objects.count())


def _call(client, ws, endpoint: str, token: str):
    slug = ws.variant.slug
    if endpoint.startswith("lifecycle "):
        lifecycle_type = endpoint.split()[1]
        base = {"workspaceId": ws.workspace_id, "addonId": ws.addon_id}
        body = {
            "INSTALLED": ws.installed_body(),
            "DELETED": base,
            "STATUS_CHANGED": {**base, "status": "INACTIVE"},
            "SETTINGS_UPDATED": {**base, "settings": [{"id": "enable_flows", "name": "Flows", "value": False}]},
        }[lifecycle_type]
        return ws.lifecycle(client, lifecycle_type, body, token=token)
    if endpoint == "clockify webhook":
        event = ws.variant.events[0]
        return client.post(f"/{slug}{webhook_path(event)}", data=json.dumps({"id": "e1"}),
                           content_type="application/json", HTTP_CLOCKIFY_SIGNATURE=token,
                           HTTP_CLOCKIFY_WEBHOOK_EVENT_TYPE=event)
    if endpoint == "custom webhook":
        from webhooks.services import custom_source_create

        installation = Installation.objects.get(variant=slug, workspace_id=ws.workspace_id)
        source, _secret = custom_source_create(installation=installation, name="Shop")
        return client.post(f"/{slug}/webhooks/custom/{source.public_id}", data=b'{"type": "PROJECT_UPDATED"}',
                           content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}",
                           HTTP_CLOCKIFY_SIGNATURE=token, HTTP_WEBHOOK_SIGNATURE=f"v1,{token}",
                           HTTP_WEBHOOK_ID="m1", HTTP_WEBHOOK_TIMESTAMP=str(int(time.time())), HTTP_X_SIGNATURE=f"sha256={token}")
    if endpoint == "page":
        return client.get(f"/{slug}/ui/dashboard", {"auth_token": token})
    if endpoint == "page xhr":
        return client.get(f"/{slug}/ui/webhooks/rows", HTTP_AUTHORIZATION=f"Bearer {token}")
    if endpoint == "json api":
        return client.get(f"/{slug}/api/v1/flows", HTTP_AUTHORIZATION=f"Bearer {token}")
    raise AssertionError(endpoint)


@pytest.fixture(autouse=True)
def _fresh_webhook_caches():
    lookup.clear_caches()
    yield
    lookup.clear_caches()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("endpoint", list(ACCEPTS))
def test_each_endpoint_takes_only_its_own_kind_of_token(installed, client, log_lines, endpoint, kind):
    ws = installed("universal-webhook")
    token = _token(ws, kind)
    before = _state(ws)
    response = _call(client, ws, endpoint, token)
    if kind in ACCEPTS[endpoint]:
        assert response.status_code == 200, (endpoint, kind, response.content[:300])
        return
    assert response.status_code == 401, (endpoint, kind, response.status_code, response.content[:300])
    if response["Content-Type"].startswith("application/json"):
        body = response.json()
        reason = body.get("error") or body.get("detail")  # the JSON API answers in DRF's shape
        expected = "wrong_token_kind" if endpoint.startswith(("lifecycle", "clockify", "json", "page")) \
            else "bad_signature"
        assert reason == expected, (endpoint, kind, reason)
    assert _state(ws) == before, (endpoint, kind)
    text = log_lines()
    assert token not in text and token.rsplit(".", 1)[1] not in text, (endpoint, kind)
