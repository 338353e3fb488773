"""Only Clockify drives the lifecycle (issue 14, reproduction 1).

Every workspace member holds a Clockify-signed user token (the ``auth_token`` of any page), and
the installation's webhook tokens travel with every webhook. Neither may drive the lifecycle:
each refused call is a 401 with a reason in the log, and nothing about the installation changes.
"""

from __future__ import annotations

import logging

import pytest

from installations import crypto, selectors
from installations.models import Installation, WebhookSubscription

pytestmark = pytest.mark.django_db


def _state(ws) -> tuple:
    installation = Installation.objects.get(variant=ws.variant.slug, workspace_id=ws.workspace_id)
    subscriptions = sorted(WebhookSubscription.objects.filter(installation=installation)
                           .values_list("path", "token_sha256"))
    return (installation.status, installation.settings, installation.addon_id,
            crypto.decrypt(installation.token_encrypted) if installation.token_encrypted else "",
            installation.backend_url, subscriptions, selectors.effective_settings(installation=installation))


def _body(ws, lifecycle_type: str) -> dict:
    base = {"workspaceId": ws.workspace_id, "addonId": ws.addon_id}
    return {
        "INSTALLED": None,
        "DELETED": {**base, "asUser": "owner-user"},
        "STATUS_CHANGED": {**base, "status": "INACTIVE"},
        "SETTINGS_UPDATED": {**base, "settings": [
            {"id": "enable_flows", "name": "Flows", "value": False},
            {"id": "enable_generic_http_actions", "name": "HTTP", "value": True},
            {"id": "http_action_allowed_domains", "name": "Domains", "value": "*"},
        ]},
    }[lifecycle_type]


def _refused(response, caplog, reason: str) -> None:
    assert response.status_code == 401, response.content
    assert response.json()["error"] == reason
    assert any(getattr(r, "reason", None) == reason for r in caplog.records), [r.__dict__ for r in caplog.records]


LIFECYCLE_TYPES = ["INSTALLED", "DELETED", "STATUS_CHANGED", "SETTINGS_UPDATED"]


@pytest.mark.parametrize("lifecycle_type", LIFECYCLE_TYPES)
@pytest.mark.parametrize("role", ["USER", "OWNER"])
def test_a_user_token_never_drives_the_lifecycle(client, installed, caplog, lifecycle_type, role):
    ws = installed()
    before = _state(ws)
    member = ws.minter.user_token(role=role, user_id="member-1")
    body = _body(ws, lifecycle_type)
    if lifecycle_type == "INSTALLED":  # the takeover: the member's own token everywhere
        body = ws.installed_body(authToken=member)
        for hook in body["webhooks"]:
            hook["authToken"] = member
    with caplog.at_level(logging.INFO):
        response = ws.lifecycle(client, lifecycle_type, body, token=member)
    _refused(response, caplog, "wrong_token_kind")
    assert _state(ws) == before


def test_the_core_reproduction_member_cannot_deactivate(client, installed):
    ws = installed()
    response = ws.lifecycle(client, "STATUS_CHANGED", {"workspaceId": ws.workspace_id, "status": "INACTIVE"},
                            token=ws.minter.user_token(role="USER"))
    assert response.status_code == 401
    assert Installation.objects.get(workspace_id=ws.workspace_id).status == "ACTIVE"


@pytest.mark.parametrize("lifecycle_type", LIFECYCLE_TYPES)
def test_a_webhook_token_of_the_installation_never_drives_the_lifecycle(client, installed, caplog, lifecycle_type):
    ws = installed()
    before = _state(ws)
    webhook_token = ws.installed_body()["webhooks"][0]["authToken"]
    assert crypto.token_hash(webhook_token) in dict(before[5]).values()  # really one of its stored tokens
    with caplog.at_level(logging.INFO):
        response = ws.lifecycle(client, lifecycle_type, _body(ws, lifecycle_type), token=webhook_token)
    _refused(response, caplog, "wrong_token_kind")
    assert _state(ws) == before


@pytest.mark.parametrize("lifecycle_type", LIFECYCLE_TYPES)
def test_the_installation_token_never_drives_the_lifecycle(client, installed, caplog, lifecycle_type):
    ws = installed()
    before = _state(ws)
    with caplog.at_level(logging.INFO):
        response = ws.lifecycle(client, lifecycle_type, _body(ws, lifecycle_type),
                                token=ws.minter.installation_token())
    _refused(response, caplog, "wrong_token_kind")
    assert _state(ws) == before


# --- INSTALLED: the body's tokens ----------------------------------------------------------------------


def test_installed_auth_token_must_be_an_installation_token(client, installed, caplog):
    ws = installed()
    before = _state(ws)
    body = ws.installed_body(authToken=ws.minter.user_token(role="USER", user_id="member-1"))
    with caplog.at_level(logging.INFO):
        response = ws.lifecycle(client, "INSTALLED", body)  # a genuine lifecycle token
    _refused(response, caplog, "installation_token_wrong_token_kind")
    assert _state(ws) == before


@pytest.mark.parametrize("forge, reason", [
    (lambda ws, keys: ws.minter.user_token(role="USER"), "webhook_token_wrong_token_kind"),
    (lambda ws, keys: ws.minter.installation_token(), "webhook_token_wrong_token_kind"),
    (lambda ws, keys: ws.minter.lifecycle_token(), "webhook_token_wrong_token_kind"),
    (lambda ws, keys: ws.minter.sign(ws.minter.base_claims(), key=keys.private_pem), "webhook_token_bad_signature"),
    (lambda ws, keys: ws.minter.webhook_token(workspaceId="another-workspace"), "webhook_token_workspace_mismatch"),
    (lambda ws, keys: ws.minter.webhook_token(addonId="another-addon"), "webhook_token_addon_mismatch"),
    (lambda ws, keys: ws.minter.webhook_token(sub="another-addon-key"), "webhook_token_wrong_addon_key"),
    (lambda ws, keys: "not-a-jwt", "webhook_token_malformed_token"),
])
def test_installed_webhook_tokens_must_be_clockify_signed_for_this_installation(
        client, installed, foreign_keys, caplog, forge, reason):
    ws = installed()
    before = _state(ws)
    body = ws.installed_body()
    body["webhooks"][-1]["authToken"] = forge(ws, foreign_keys)
    with caplog.at_level(logging.INFO):
        response = ws.lifecycle(client, "INSTALLED", body)
    _refused(response, caplog, reason)
    assert _state(ws) == before


def test_a_refused_first_install_stores_nothing(client, make_workspace):
    ws = make_workspace()
    body = ws.installed_body(authToken=ws.minter.user_token())
    assert ws.lifecycle(client, "INSTALLED", body).status_code == 401
    assert not Installation.objects.exists() and not WebhookSubscription.objects.exists()


def test_clockify_itself_still_drives_every_step(client, installed):
    ws = installed()
    for lifecycle_type in ("SETTINGS_UPDATED", "STATUS_CHANGED", "DELETED"):
        assert ws.lifecycle(client, lifecycle_type, _body(ws, lifecycle_type)).status_code == 200, lifecycle_type
    assert Installation.objects.get(workspace_id=ws.workspace_id).status == "DELETED"
