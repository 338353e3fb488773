"""Lifecycle over HTTP with correctly signed (and forged) tokens."""

import json
import logging

import jwt
import pytest

from addons.variants import VARIANTS
from installations import crypto, selectors
from installations.models import Installation, WebhookSubscription

pytestmark = pytest.mark.django_db


def _settings_body(ws, items):
    return {"workspaceId": ws.workspace_id, "addonId": ws.addon_id, "settings": items}


@pytest.mark.parametrize("slug", list(VARIANTS))
def test_full_round_trip(client, make_workspace, slug):
    ws = make_workspace(slug)
    body = ws.installed_body()
    assert ws.lifecycle(client, "INSTALLED", body).status_code == 200
    installation = Installation.objects.get(variant=slug, workspace_id=ws.workspace_id)
    assert installation.status == "ACTIVE"
    assert installation.token_encrypted and body["authToken"] not in installation.token_encrypted
    assert selectors.installation_token(installation=installation) == body["authToken"]
    assert installation.backend_url == ws.minter.backend_url
    subs = WebhookSubscription.objects.filter(installation=installation)
    assert subs.count() == len(VARIANTS[slug].manifest_events)
    first = subs.get(event=VARIANTS[slug].manifest_events[0])
    assert first.token_sha256 == crypto.token_hash(body["webhooks"][0]["authToken"])
    assert body["webhooks"][0]["authToken"] not in first.token_sha256

    r = ws.lifecycle(client, "SETTINGS_UPDATED", _settings_body(ws, [
        {"id": "enable_flows", "name": "Flows", "value": False},
        {"id": "webhook_log_retention_days", "name": "Retention", "value": "45"},
        {"id": "not_a_setting", "name": "x", "value": "ignored"},
    ]))
    assert r.status_code == 200, r.content
    installation.refresh_from_db()
    effective = selectors.effective_settings(installation=installation)
    assert effective["enable_flows"] is False and effective["webhook_log_retention_days"] == 45
    assert "not_a_setting" not in installation.settings

    r = ws.lifecycle(client, "STATUS_CHANGED", {"workspaceId": ws.workspace_id, "addonId": ws.addon_id,
                                                "status": "INACTIVE"})
    assert r.status_code == 200
    installation.refresh_from_db()
    assert installation.status == "INACTIVE"

    assert ws.lifecycle(client, "DELETED").status_code == 200
    installation.refresh_from_db()
    assert installation.status == "DELETED" and installation.token_encrypted == ""
    assert not WebhookSubscription.objects.filter(installation=installation).exists()
    # Repeated delivery is idempotent.
    assert ws.lifecycle(client, "DELETED").status_code == 200

    assert ws.lifecycle(client, "INSTALLED").status_code == 200
    installation.refresh_from_db()
    assert installation.status == "ACTIVE" and installation.settings == {}
    assert Installation.objects.filter(workspace_id=ws.workspace_id, variant=slug).count() == 1


def test_installed_twice_replaces_tokens(client, make_workspace):
    ws = make_workspace()
    ws.lifecycle(client, "INSTALLED")
    second = ws.installed_body()
    assert ws.lifecycle(client, "INSTALLED", second).status_code == 200
    installation = Installation.objects.get(workspace_id=ws.workspace_id)
    assert selectors.installation_token(installation=installation) == second["authToken"]
    assert WebhookSubscription.objects.filter(installation=installation).count() == len(ws.variant.manifest_events)


def test_clockify_signature_header_is_accepted(client, make_workspace):
    ws = make_workspace()
    assert ws.lifecycle(client, "INSTALLED", header="HTTP_CLOCKIFY_SIGNATURE").status_code == 200


def test_effective_settings_use_environment_defaults(client, make_workspace, settings):
    settings.ADDON_SETTING_DEFAULTS = {"cache_ttl_days": "3"}
    ws = make_workspace()
    ws.lifecycle(client, "INSTALLED")
    installation = Installation.objects.get(workspace_id=ws.workspace_id)
    assert selectors.effective_settings(installation=installation)["cache_ttl_days"] == 3


# --- rejections -------------------------------------------------------------------------------------


def _assert_nothing_stored():
    assert Installation.objects.count() == 0 and WebhookSubscription.objects.count() == 0


@pytest.mark.parametrize(
    "make_token, reason",
    [
        (lambda ws, keys: None, "missing_token"),
        (lambda ws, keys: "not-a-jwt", "malformed_token"),
        (lambda ws, keys: ws.minter.sign(ws.minter.base_claims(), key=keys.private_pem), "bad_signature"),
        (lambda ws, keys: ws.minter.lifecycle_token(ttl_seconds=-3600), "expired"),
        (lambda ws, keys: ws.minter.lifecycle_token(sub="someone-elses-addon"), "wrong_addon_key"),
        (lambda ws, keys: ws.minter.lifecycle_token(iss="evil"), "bad_issuer"),
        (lambda ws, keys: ws.minter.lifecycle_token(type="user"), "bad_type"),
        (lambda ws, keys: jwt.encode(ws.minter.base_claims(), "a-shared-secret-that-is-long-enough-for-hs256", algorithm="HS256"), "bad_algorithm"),
    ],
)
def test_bad_lifecycle_tokens_are_401(client, make_workspace, foreign_keys, caplog, make_token, reason):
    ws = make_workspace()
    token = make_token(ws, foreign_keys)
    with caplog.at_level(logging.INFO):
        response = ws.lifecycle(client, "INSTALLED", token=token)
    assert response.status_code == 401
    assert response.json()["error"] == reason
    _assert_nothing_stored()
    if token:
        assert token not in caplog.text
    assert any(getattr(rec, "reason", None) == reason for rec in caplog.records)


def test_forged_installation_token_in_body_is_401(client, make_workspace, foreign_keys):
    ws = make_workspace()
    body = ws.installed_body(authToken=ws.minter.sign(ws.minter.base_claims(), key=foreign_keys.private_pem))
    response = ws.lifecycle(client, "INSTALLED", body)
    assert response.status_code == 401
    _assert_nothing_stored()


def test_token_and_body_workspaces_differ_is_403(client, make_workspace):
    ws = make_workspace()
    body = ws.installed_body(workspaceId="another-workspace")
    response = ws.lifecycle(client, "INSTALLED", body)
    assert response.status_code == 403 and response.json()["error"] == "workspace_mismatch"
    _assert_nothing_stored()


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"[]", b'"text"', json.dumps({"workspaceId": "x"}).encode()],
)
def test_malformed_installed_body_is_400(client, make_workspace, raw):
    ws = make_workspace()
    response = ws.lifecycle(client, "INSTALLED", raw)
    assert response.status_code == 400
    assert response.json()["error"] in ("bad_payload",)
    _assert_nothing_stored()


def test_missing_fields_are_named(client, make_workspace):
    ws = make_workspace()
    body = ws.installed_body()
    del body["authToken"]
    response = ws.lifecycle(client, "INSTALLED", body)
    assert response.status_code == 400 and "authToken" in response.json()["detail"]
    _assert_nothing_stored()


def test_unknown_webhook_paths_are_logged_and_skipped(client, make_workspace, caplog):
    """Clockify sends the webhooks of the published manifest, which may be older or newer than the
    running code: a path the code does not know is skipped, not a failed install (issue 20, item 3)."""
    ws = make_workspace("api-studio")
    body = ws.installed_body()
    body["webhooks"] += [
        {"path": "/api-studio/webhooks/not-ours", "webhookType": "ADDON", "authToken": ws.minter.webhook_token()},
        # An event this code knows, but not one of API Studio's webhooks.
        {"path": "https://addons.example.com/api-studio/webhooks/new-task", "webhookType": "ADDON",
         "authToken": ws.minter.webhook_token()},
    ]
    with caplog.at_level(logging.WARNING, logger="installations.services"):
        response = ws.lifecycle(client, "INSTALLED", body)
    assert response.status_code == 200, response.content
    installation = Installation.objects.get(workspace_id=ws.workspace_id)
    stored = set(WebhookSubscription.objects.filter(installation=installation).values_list("path", flat=True))
    assert len(stored) == 12 and "/webhooks/not-ours" not in stored and "/webhooks/new-task" not in stored
    skipped = [r for r in caplog.records if r.getMessage() == "installation_webhook_path_unknown"]
    assert sorted(r.path for r in skipped) == ["/webhooks/new-task", "/webhooks/not-ours"]
    assert all(ws.addon_id not in r.getMessage() for r in skipped)


def test_settings_are_coerced_one_by_one_and_every_skip_is_logged(client, installed, caplog):
    """Clockify has already saved the values: one bad value must not drop the others (issue 20, item 5)."""
    ws = installed()
    assert ws.lifecycle(client, "SETTINGS_UPDATED", _settings_body(ws, [
        {"id": "webhook_log_retention_days", "value": 45}])).status_code == 200
    with caplog.at_level(logging.INFO, logger="installations.services"):
        response = ws.lifecycle(client, "SETTINGS_UPDATED", _settings_body(ws, [
            {"id": "enable_flows", "value": False},
            {"id": "bootstrap_max_rps", "value": 999},  # above the maximum: clamped
            {"id": "time_entry_days_back", "value": -3},  # below the minimum: clamped
            {"id": "webhook_log_retention_days", "value": "forever"},  # not a number: skipped, 45 stays
            {"id": "enable_custom_webhooks", "value": {"nested": True}},  # not a boolean: skipped
            {"id": "not_a_setting", "value": 1},  # unknown: ignored
            {"name": "no id"},
            "not an object",
        ]))
    assert response.status_code == 200, response.content
    settings = Installation.objects.get(workspace_id=ws.workspace_id).settings
    assert settings == {"enable_flows": False, "bootstrap_max_rps": 50, "time_entry_days_back": 1,
                        "webhook_log_retention_days": 45}
    logged = {(r.getMessage(), getattr(r, "setting_id", None)) for r in caplog.records}
    assert {("installation_setting_clamped", "bootstrap_max_rps"), ("installation_setting_clamped", "time_entry_days_back"),
            ("installation_setting_skipped", "webhook_log_retention_days"),
            ("installation_setting_skipped", "enable_custom_webhooks"),
            ("installation_setting_unknown", "not_a_setting")} <= logged


def test_bad_status_is_400(client, installed):
    ws = installed()
    response = ws.lifecycle(client, "STATUS_CHANGED", {"workspaceId": ws.workspace_id, "status": "PAUSED"})
    assert response.status_code == 400
    assert Installation.objects.get(workspace_id=ws.workspace_id).status == "ACTIVE"


def test_settings_for_unknown_installation_is_404(client, make_workspace):
    ws = make_workspace()
    response = ws.lifecycle(client, "SETTINGS_UPDATED", _settings_body(ws, []))
    assert response.status_code == 404


def test_token_of_an_earlier_installation_cannot_delete(client, installed, make_workspace):
    ws = installed()
    stale = make_workspace(workspace_id=ws.workspace_id, addon_id="old-addon-id")
    response = stale.lifecycle(client, "DELETED")
    assert response.status_code == 401
    assert Installation.objects.get(workspace_id=ws.workspace_id).status == "ACTIVE"


def test_lifecycle_token_of_other_variant_is_rejected(client, make_workspace):
    studio = make_workspace("api-studio")
    universal = make_workspace("universal-webhook", workspace_id=studio.workspace_id)
    # A Universal Webhook token (its sub) sent to API Studio's endpoint.
    response = studio.lifecycle(client, "INSTALLED", studio.installed_body(),
                                token=universal.minter.lifecycle_token())
    assert response.status_code == 401


def test_get_is_not_allowed(client):
    assert client.get("/api-studio/lifecycle/installed").status_code == 405


def test_signature_verification_can_be_disabled_loudly(client, make_workspace, foreign_keys, settings):
    settings.REQUIRE_SIGNATURE_VERIFICATION = False
    ws = make_workspace(private_pem=foreign_keys.private_pem)
    assert ws.lifecycle(client, "INSTALLED").status_code == 200
