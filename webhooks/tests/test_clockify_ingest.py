"""Clockify webhooks over HTTP: every status of the issue, with signed and forged tokens."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import jwt
import pytest

from addons.catalog import EVENTS
from addons.variants import VARIANTS
from installations.models import Installation
from webhooks.models import WebhookEvent
from webhooks.tests.conftest import post_clockify, sample_body

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "clockify" / "webhook-samples"


def _only_event() -> WebhookEvent:
    [event] = WebhookEvent.objects.all()
    return event


@pytest.mark.parametrize("event", list(VARIANTS["universal-webhook"].manifest_events))
def test_every_universal_event_is_accepted_and_enqueued(client, installed, event,
                                                        django_capture_on_commit_callbacks):
    ws = installed("universal-webhook")
    body = sample_body(event)
    with django_capture_on_commit_callbacks() as callbacks:
        response = post_clockify(client, ws, event, body)
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "accepted"}
    stored = _only_event()
    assert stored.event_type == event and stored.status == "received" and stored.source == "clockify"
    assert stored.payload == body and json.loads(stored.raw_body) == body
    assert stored.installation.workspace_id == ws.workspace_id
    assert stored.workspace_id == "ws-body" and stored.entity_id and stored.dedupe_key
    assert "clockify-signature" not in stored.headers
    assert stored.headers["clockify-webhook-event-type"] == event
    assert len(callbacks) == 1  # processing is enqueued once the row is committed


def test_derived_ids_for_a_time_entry(client, installed):
    ws = installed("api-studio")
    body = {"id": "te1", "workspaceId": ws.workspace_id, "userId": "u1", "projectId": "p1"}
    assert post_clockify(client, ws, "NEW_TIME_ENTRY", body).status_code == 200
    event = _only_event()
    assert (event.workspace_id, event.user_id, event.entity_id, event.project_id) == (ws.workspace_id, "u1", "te1",
                                                                                      "p1")


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="../shared/clockify/webhook-samples absent")
def test_every_shared_sample_is_accepted(client, installed):
    ws = installed("universal-webhook")
    # The API-only events' samples come through workspace webhooks (test_workspace_webhooks).
    samples = sorted(p for p in SAMPLES.glob("*.json") if EVENTS[p.stem].addon_webhook)
    assert samples
    for sample in samples:
        event = sample.stem
        response = post_clockify(client, ws, event, sample.read_bytes())
        assert response.status_code == 200, (event, response.content)
        stored = WebhookEvent.objects.get(event_type=event)
        assert stored.payload == json.loads(sample.read_text())
    assert WebhookEvent.objects.count() == len(samples)


# --- 413 ----------------------------------------------------------------------------------------------


def test_body_over_limit_is_413_and_nothing_stored(client, installed, settings):
    settings.WEBHOOK_MAX_BODY_BYTES = 200
    ws = installed()
    response = post_clockify(client, ws, "NEW_TAG", sample_body("NEW_TAG", note="x" * 300))
    assert response.status_code == 413 and response.json()["error"] == "body_too_large"
    assert not WebhookEvent.objects.exists()


def test_size_is_checked_before_anything_else(client, installed, settings):
    settings.WEBHOOK_MAX_BODY_BYTES = 10
    ws = installed()
    response = post_clockify(client, ws, "NEW_TAG", b"x" * 50, token=None, event_type=None)
    assert response.status_code == 413


# --- 401 ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make_token, reason",
    [
        (lambda ws, keys: None, "missing_signature"),
        (lambda ws, keys: "not-a-jwt", "malformed_token"),
        (lambda ws, keys: ws.minter.sign(ws.minter.base_claims(), key=keys.private_pem), "bad_signature"),
        (lambda ws, keys: ws.minter.webhook_token(sub="someone-elses-addon"), "wrong_addon_key"),
        (lambda ws, keys: ws.minter.webhook_token(iss="evil"), "bad_issuer"),
        (lambda ws, keys: jwt.encode(ws.minter.base_claims(), "k" * 32, algorithm="HS256"), "bad_algorithm"),
        # Genuinely signed by Clockify, but not the token stored for this webhook.
        (lambda ws, keys: ws.minter.webhook_token(jti="another"), "token_mismatch"),
        (lambda ws, keys: ws.minter.webhook_token(workspaceId="never-installed"), "unknown_installation"),
        (lambda ws, keys: ws.minter.webhook_token(addonId="another-addon"), "addon_mismatch"),
        # Genuine tokens of the installation, of another kind: a member's, the installation's, a lifecycle one.
        (lambda ws, keys: ws.minter.user_token(role="USER"), "wrong_token_kind"),
        (lambda ws, keys: ws.minter.installation_token(), "wrong_token_kind"),
        (lambda ws, keys: ws.minter.lifecycle_token(), "wrong_token_kind"),
    ],
)
def test_bad_tokens_are_401_nothing_stored_nothing_leaked(client, installed, foreign_keys, caplog, make_token,
                                                          reason):
    ws = installed()
    token = make_token(ws, foreign_keys)
    with caplog.at_level(logging.INFO):
        response = post_clockify(client, ws, "NEW_TIME_ENTRY", token=token)
    assert response.status_code == 401
    assert response.json()["error"] == reason
    assert not WebhookEvent.objects.exists()
    assert any(getattr(r, "reason", None) == reason for r in caplog.records)
    if token:
        assert token not in caplog.text and token not in response.content.decode()


def test_token_of_another_variant_is_401(client, installed):
    ws = installed("api-studio")
    response = post_clockify(client, ws, "NEW_TAG", variant="universal-webhook")
    assert response.status_code == 401 and response.json()["error"] == "wrong_addon_key"
    assert not WebhookEvent.objects.exists()


def test_unknown_path_is_401(client, installed):
    ws = installed()
    response = post_clockify(client, ws, "NEW_TAG", slug="not-an-event")
    assert response.status_code == 401 and response.json()["error"] == "unknown_path"
    assert not WebhookEvent.objects.exists()


def test_deleted_installation_is_401_even_when_cached(client, installed):
    ws = installed()
    assert post_clockify(client, ws, "NEW_TAG").status_code == 200  # warms the lookup cache
    assert ws.lifecycle(client, "DELETED").status_code == 200
    response = post_clockify(client, ws, "NEW_CLIENT")
    assert response.status_code == 401
    assert WebhookEvent.objects.count() == 1


def test_reinstall_with_new_tokens_is_accepted_at_once(client, installed):
    ws = installed()
    assert post_clockify(client, ws, "NEW_TAG").status_code == 200
    body = ws.installed_body()
    new_token = ws.minter.webhook_token(jti="v2")
    for hook in body["webhooks"]:
        hook["authToken"] = new_token
    assert ws.lifecycle(client, "INSTALLED", body).status_code == 200
    assert post_clockify(client, ws, "NEW_CLIENT", token=new_token).status_code == 200


# --- 400 / 403 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "event_type, reason",
    [(None, "missing_event_type"), ("NEW_CLIENT", "event_type_mismatch"), ("new_tag", "event_type_mismatch")],
)
def test_event_type_header_must_match_the_path(client, installed, event_type, reason):
    ws = installed()
    response = post_clockify(client, ws, "NEW_TAG", event_type=event_type)
    assert response.status_code == 400 and response.json()["error"] == reason
    assert not WebhookEvent.objects.exists()


def test_event_outside_api_studio_plan_is_403(client, installed):
    ws = installed("api-studio")
    assert not VARIANTS["api-studio"].subscribes("NEW_INVOICE")
    response = post_clockify(client, ws, "NEW_INVOICE")
    assert response.status_code == 403 and response.json()["error"] == "event_not_in_plan"
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize(
    "raw, reason",
    [(b"{not json", "bad_json"), (b"[1, 2]", "bad_json"), (b'"text"', "bad_json"), (b"", "bad_json"),
     (b'{"a": NaN}', "bad_json"), (b'{"a": 1e999999}', "bad_json"), (b'{"a": -1e-99999}', "bad_json"),
     (b'{"a": ' + b"9" * 5000 + b"}", "bad_json"), (b'{"a": "\xff"}', "bad_encoding")],
)
def test_malformed_body_is_400(client, installed, raw, reason):
    ws = installed()
    response = post_clockify(client, ws, "NEW_TAG", raw)
    assert response.status_code == 400 and response.json()["error"] == reason
    assert not WebhookEvent.objects.exists()


def test_json_the_database_cannot_hold_is_cleaned_not_500(client, installed):
    ws = installed()
    response = post_clockify(client, ws, "NEW_TAG", b'{"id": "t1", "name": "a\\u0000b", "x": "\\ud800"}')
    assert response.status_code == 200
    event = _only_event()
    assert event.payload["id"] == "t1" and "\x00" not in event.payload["name"]
    assert "\\u0000" in event.raw_body


# --- duplicates, inactive, rate limit ---------------------------------------------------------------------


def test_duplicate_is_200_stored_once_enqueued_once(client, installed, django_capture_on_commit_callbacks):
    ws = installed()
    body = sample_body("NEW_TAG")
    with django_capture_on_commit_callbacks() as callbacks:
        first = post_clockify(client, ws, "NEW_TAG", body)
        second = post_clockify(client, ws, "NEW_TAG", body)
    assert first.json() == {"status": "accepted"} and second.status_code == 200
    assert second.json() == {"status": "duplicate"}
    assert WebhookEvent.objects.count() == 1 and len(callbacks) == 1
    # Same body, other event type: not a duplicate.
    assert post_clockify(client, ws, "TAG_UPDATED", body).json() == {"status": "accepted"}


def test_same_body_for_two_installations_is_stored_for_each(client, installed):
    one, two = installed(), installed()
    body = sample_body("NEW_TAG")
    assert post_clockify(client, one, "NEW_TAG", body).json() == {"status": "accepted"}
    assert post_clockify(client, two, "NEW_TAG", body).json() == {"status": "accepted"}
    assert WebhookEvent.objects.count() == 2


def test_inactive_installation_is_200_stored_as_skipped_not_enqueued(client, installed,
                                                                     django_capture_on_commit_callbacks):
    ws = installed()
    assert post_clockify(client, ws, "NEW_TAG").status_code == 200  # cache the lookup while active
    ws.lifecycle(client, "STATUS_CHANGED", {"workspaceId": ws.workspace_id, "addonId": ws.addon_id,
                                            "status": "INACTIVE"})
    with django_capture_on_commit_callbacks() as callbacks:
        response = post_clockify(client, ws, "NEW_CLIENT")
    assert response.status_code == 200 and response.json() == {"status": "skipped"}
    assert WebhookEvent.objects.get(event_type="NEW_CLIENT").status == "skipped"
    assert callbacks == []


def test_rate_limit_is_429_with_retry_after(client, installed, settings):
    settings.WEBHOOK_INGEST_RATE_PER_SECOND = 1
    settings.WEBHOOK_INGEST_BURST = 2
    ws, other = installed(), installed()
    statuses = [post_clockify(client, ws, "NEW_TAG").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    limited = post_clockify(client, ws, "NEW_TAG")
    assert limited.status_code == 429 and int(limited["Retry-After"]) >= 1
    assert WebhookEvent.objects.filter(installation__workspace_id=ws.workspace_id).count() == 2
    # Another tenant is not affected.
    assert post_clockify(client, other, "NEW_TAG").status_code == 200


def test_get_is_405(client, installed):
    ws = installed()
    assert client.get(f"/{ws.variant.slug}/webhooks/new-tag").status_code == 405


def test_installation_row_is_untouched_by_ingestion(client, installed):
    ws = installed()
    before = Installation.objects.get(workspace_id=ws.workspace_id).updated_at
    post_clockify(client, ws, "NEW_TAG")
    assert Installation.objects.get(workspace_id=ws.workspace_id).updated_at == before


def test_duplicate_across_a_window_boundary_is_caught_and_an_old_one_is_not(installed, settings):
    from datetime import timedelta

    from django.utils import timezone

    from webhooks.services import StoreOutcome, webhook_event_store
    from webhooks.services.ingest import parse_body, window_dedupe_keys

    settings.WEBHOOK_DEDUPE_WINDOW_SECONDS = 600
    ws = installed()
    installation = Installation.objects.get(workspace_id=ws.workspace_id)
    raw = json.dumps(sample_body("NEW_TAG")).encode()
    start = 1_800_000_000 // 600 * 600 + 590  # ten seconds before a bucket ends

    def store(now_s: float, received_at):
        key, previous = window_dedupe_keys("NEW_TAG", body=raw, now=now_s)
        return webhook_event_store(installation_id=installation.pk, source="clockify", event_type="NEW_TAG",
                                   headers={}, body=parse_body(raw, require_object=True), ids={},
                                   dedupe_key=key, previous_dedupe_key=previous, received_at=received_at).outcome

    now = timezone.now()
    assert store(start, now - timedelta(seconds=20)) is StoreOutcome.ACCEPTED
    # Twenty seconds later, in the next bucket: still a duplicate.
    assert store(start + 20, now) is StoreOutcome.DUPLICATE
    assert WebhookEvent.objects.count() == 1
    # Same body more than a window after the first one: a new event.
    WebhookEvent.objects.update(received_at=now - timedelta(seconds=700))
    assert store(start + 20, now) is StoreOutcome.ACCEPTED


@pytest.mark.parametrize("raw", [b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 50_000 + b'"\\u0000"' + b"}" * 50_000])
def test_absurdly_nested_json_is_400_not_500(client, installed, raw):
    ws = installed()
    response = post_clockify(client, ws, "NEW_TAG", raw)
    assert response.status_code == 400 and response.json()["error"] == "bad_json"
    assert not WebhookEvent.objects.exists()
