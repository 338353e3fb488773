"""The Clockify side of the protocol against the real platform endpoints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from addons.catalog import EVENTS
from addons.tokens import ACCEPTS_USER, verify_clockify_token
from addons.variants import VARIANTS
from clockify_standin.payloads import webhook_body
from installations import selectors
from installations.models import Installation, InstallationStatus

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "clockify" / "webhook-samples"


@pytest.mark.django_db(transaction=True)
def test_lifecycle_round_trip_over_http(live_server, standin, clockify_side):
    side = clockify_side("universal-webhook", platform=live_server, standin=standin)
    assert side.manifest["key"] == VARIANTS["universal-webhook"].key

    r = side.install()
    assert r.status_code == 200, r.content
    installation = Installation.objects.get(variant="universal-webhook", workspace_id=side.workspace_id)
    assert installation.status == InstallationStatus.ACTIVE
    assert installation.backend_url == standin.backend_url
    assert installation.webhook_subscriptions.count() == len(VARIANTS["universal-webhook"].manifest_events) == 42
    # the stored installation token is the one the stand-in API accepts
    token = selectors.installation_token(installation=installation)
    me = requests.get(f"{installation.backend_url}/v1/user", headers={"X-Addon-Token": token}, timeout=5)
    assert me.status_code == 200 and me.json()["id"] == standin.workspace(side.workspace_id).owner_id

    r = side.update_settings({"bootstrap_max_rps": 10, "enable_generic_http_actions": True})
    assert r.status_code == 200, r.content
    installation.refresh_from_db()
    effective = selectors.effective_settings(installation=installation)
    assert effective["bootstrap_max_rps"] == 10 and effective["enable_generic_http_actions"] is True
    # the stand-in answers GET addon settings with the same values, as Clockify would
    structured = requests.get(f"{standin.backend_url}/addon/workspaces/{side.workspace_id}/settings",
                              headers={"X-Addon-Token": token}, timeout=5).json()
    values = {s["id"]: s["value"] for tab in structured["tabs"] for g in tab["groups"] for s in g["settings"]}
    assert values["bootstrap_max_rps"] == 10

    assert side.set_status("INACTIVE").status_code == 200
    installation.refresh_from_db()
    assert installation.status == InstallationStatus.INACTIVE

    assert side.delete().status_code == 200
    installation.refresh_from_db()
    assert installation.status == InstallationStatus.DELETED and installation.token_encrypted == ""


@pytest.mark.django_db
def test_django_client_adapter_and_bad_inputs(client, clockify_side, foreign_keys):
    side = clockify_side("api-studio", platform=client)
    assert side.install().status_code == 200
    assert Installation.objects.filter(workspace_id=side.workspace_id, variant="api-studio").exists()
    with pytest.raises(KeyError):
        side.webhook_path("ASSIGNMENT_CREATED")  # not an api-studio event
    clamped = side.update_settings({"bootstrap_max_rps": 500})  # above the setting's maximum: clamped
    assert clamped.status_code == 200
    assert selectors.effective_settings(
        installation=Installation.objects.get(workspace_id=side.workspace_id))["bootstrap_max_rps"] == 50
    # a Clockify side with the wrong key cannot install anything
    forger = clockify_side("api-studio", platform=client, private_pem=foreign_keys.private_pem)
    assert forger.install().status_code == 401
    assert not Installation.objects.filter(workspace_id=forger.workspace_id).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["OWNER", "WORKSPACE_ADMIN", "ADMIN", "TEAM_MANAGER", "PROJECT_MANAGER", "USER"])
def test_user_tokens_verify_as_clockify_tokens(client, clockify_side, standin, role):
    side = clockify_side("universal-webhook", platform=client, standin=standin)
    token = side.user_token(role=role, ttl_seconds=60, theme="DARK")
    claims = verify_clockify_token(token, expected_sub=side.addon_key, accept=ACCEPTS_USER,
                                   workspace_id=side.workspace_id).claims
    assert claims["workspaceRole"] == role and claims["theme"] == "DARK"
    assert claims["backendUrl"] == standin.backend_url and claims["reportsUrl"] == standin.reports_url
    assert claims["exp"] - claims["iat"] == 60
    assert side.sidebar_url(token).startswith(f"http://testserver/universal-webhook/ui/dashboard?auth_token={token}")
    with pytest.raises(ValueError):
        side.user_token(role="GOD")


def _id_values(value):
    """Every non-empty value of a field named id / ...Id, at any depth."""
    if isinstance(value, dict):
        for key, item in value.items():
            if (key == "id" or key.endswith("Id")) and isinstance(item, str) and item:
                yield item
            else:
                yield from _id_values(item)
    elif isinstance(value, list):
        for item in value:
            yield from _id_values(item)


@pytest.mark.parametrize("event", sorted(EVENTS))
def test_every_event_has_a_clockify_shaped_body(event, standin):
    ws = standin.seed_workspace("c10c00000000000000000abc", size=100)
    body = webhook_body(event, workspace_id=ws.workspace_id, workspace=ws)
    json.dumps(body)  # serialisable
    assert body.get("workspaceId", ws.workspace_id) == ws.workspace_id
    spec = EVENTS[event]
    ids = list(_id_values(body))
    assert ids and all(isinstance(i, str) and len(i) == 24 and int(i, 16) >= 0 for i in ids), ids
    if spec.entity_type in ("projects", "tasks", "time-entries") and "projectId" in body:
        assert body["projectId"] in ws.entities["projects"] or event in ("NEW_PROJECT",)
    sample = SAMPLES / f"{event}.json"
    if sample.exists():  # the real shape, when /work/shared is around: same top-level fields
        assert set(json.loads(sample.read_text())) <= set(body), event


def test_created_events_get_fresh_ids(standin):
    ws = standin.seed_workspace("c10c00000000000000000abd", size=100)
    first = webhook_body("NEW_TIME_ENTRY", workspace_id=ws.workspace_id, workspace=ws)
    second = webhook_body("NEW_TIME_ENTRY", workspace_id=ws.workspace_id, workspace=ws)
    assert first["id"] != second["id"]
    assert webhook_body("NEW_TAG", workspace_id="w" * 24, seed=5) == webhook_body("NEW_TAG", workspace_id="w" * 24, seed=5)


@pytest.mark.skipif(not SAMPLES.exists(), reason="reads /work/shared webhook samples")
def test_samples_cover_the_catalog_except_known_gaps():
    missing = {e for e in EVENTS if not (SAMPLES / f"{e}.json").exists()}
    assert missing <= {"TIME_OFF_REQUEST_UPDATED", "TIME_OFF_REQUEST_STARTED"}


@pytest.mark.django_db(transaction=True)
def test_a_signed_webhook_for_every_event_is_accepted(live_server, standin, clockify_side):
    side = clockify_side("universal-webhook", platform=live_server, standin=standin)
    assert side.install().status_code == 200
    for event in side.events:
        r = side.send_webhook(event)
        assert 200 <= r.status_code < 300, (event, r.status_code, r.content[:200])
    assert len(set(side.webhook_tokens.values())) == len(side.events)
    # genuine JWTs, but not the token stored for this webhook: another webhook's, or a fresh one
    assert side.send_webhook("NEW_TAG", token=side.webhook_tokens["NEW_PROJECT"]).status_code == 401
    assert side.send_webhook("NEW_TAG", token=side.minter.webhook_token(jti="fresh")).status_code == 401
    from webhooks.models import WebhookEvent

    logged = WebhookEvent.objects.filter(installation__workspace_id=side.workspace_id)
    assert sorted(logged.values_list("event_type", flat=True)) == sorted(side.events)
