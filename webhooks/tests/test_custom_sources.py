"""Custom webhook sources (Universal Webhook): Standard Webhooks and X-Signature verification."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time

import pytest

from installations import crypto
from installations.models import Installation
from webhooks import selectors, services
from webhooks.models import CustomSourceSecret, WebhookEvent
from webhooks.tests.conftest import standard_headers, x_signature_headers

pytestmark = pytest.mark.django_db


@pytest.fixture
def source(installed):
    ws = installed("universal-webhook")
    installation = Installation.objects.get(workspace_id=ws.workspace_id)
    src, secret = services.custom_source_create(installation=installation, name="Shop")
    src.ws = ws
    return src, secret


def post(client, src, body: bytes, headers: dict[str, str], variant: str = "universal-webhook"):
    return client.post(f"/{variant}/webhooks/custom/{src.public_id}", data=body, content_type="application/json",
                       **headers)


BODY = json.dumps({"type": "order.created", "data": {"id": "o1"}}).encode()


def test_create_shows_secret_once_and_stores_it_encrypted(source):
    src, secret = source
    assert secret.startswith("whsec_")
    [stored] = CustomSourceSecret.objects.filter(source=src)
    assert secret not in stored.secret_encrypted and crypto.decrypt(stored.secret_encrypted) == secret
    assert selectors.custom_source_url(source=src).endswith(f"/universal-webhook/webhooks/custom/{src.public_id}")


def test_standard_webhooks_request_is_accepted_and_enqueued(client, source, django_capture_on_commit_callbacks):
    src, secret = source
    with django_capture_on_commit_callbacks() as callbacks:
        response = post(client, src, BODY, standard_headers(secret, BODY))
    assert response.status_code == 200 and response.json() == {"status": "accepted"}
    [event] = WebhookEvent.objects.all()
    assert event.source == "custom" and event.custom_source == src and event.event_type == "order.created"
    assert event.payload["data"]["id"] == "o1" and "webhook-signature" not in event.headers
    assert event.headers["webhook-id"] == "msg_1"
    assert len(callbacks) == 1


def test_x_signature_request_is_accepted(client, source):
    src, secret = source
    response = post(client, src, BODY, x_signature_headers(secret, BODY))
    assert response.status_code == 200
    assert WebhookEvent.objects.get().event_type == "order.created"


def test_x_signature_replayed_with_fresh_unsigned_webhook_ids_is_stored_once(client, source):
    """Issue 15, item 4: ``webhook-id`` is not covered by ``X-Signature``, so it cannot make a
    captured request new again; the signed timestamp and the body identify the delivery."""
    src, secret = source
    captured = x_signature_headers(secret, BODY)
    statuses = [post(client, src, BODY, {**captured, "HTTP_WEBHOOK_ID": f"msg_{n}"}).json()["status"]
                for n in range(5)]
    assert statuses == ["accepted"] + ["duplicate"] * 4
    assert WebhookEvent.objects.count() == 1


def test_x_signature_same_body_signed_at_another_second_is_a_new_delivery(client, source):
    src, secret = source
    now = int(time.time())
    assert post(client, src, BODY, x_signature_headers(secret, BODY, timestamp=now - 1)).json()["status"] == "accepted"
    assert post(client, src, BODY, x_signature_headers(secret, BODY, timestamp=now)).json()["status"] == "accepted"
    assert WebhookEvent.objects.count() == 2


@pytest.mark.parametrize("mutate, reason", [
    (lambda h, s: {k: v for k, v in h.items() if k != "HTTP_X_SIGNATURE_TIMESTAMP"}, "missing_timestamp"),
    (lambda h, s: {**h, "HTTP_X_SIGNATURE_TIMESTAMP": "soon"}, "bad_timestamp"),
    (lambda h, s: x_signature_headers(s, BODY, timestamp=int(time.time()) - 301), "stale_timestamp"),
    (lambda h, s: x_signature_headers(s, BODY, timestamp=int(time.time()) + 301), "stale_timestamp"),
    # A replay with a fresh timestamp the signature does not cover.
    (lambda h, s: {**h, "HTTP_X_SIGNATURE_TIMESTAMP": str(int(h["HTTP_X_SIGNATURE_TIMESTAMP"]) + 1)},
     "bad_signature"),
    # The body alone signed (the scheme without a timestamp) is not enough.
    (lambda h, s: {**h, "HTTP_X_SIGNATURE": "sha256=" + hmac.new(s.encode(), BODY, hashlib.sha256).hexdigest()},
     "bad_signature"),
])
def test_x_signature_needs_a_fresh_signed_timestamp(client, source, mutate, reason):
    src, secret = source
    response = post(client, src, BODY, mutate(x_signature_headers(secret, BODY), secret))
    assert response.status_code == 401 and response.json()["error"] == reason
    assert not WebhookEvent.objects.exists()


def test_several_signatures_one_valid_is_accepted(client, source):
    src, secret = source
    headers = standard_headers(secret, BODY, extra_signatures="v1,AAAAbm90LXZhbGlk v1a,ignored")
    assert post(client, src, BODY, headers).status_code == 200


@pytest.mark.parametrize(
    "mutate, reason",
    [
        (lambda h, s: {**h, "HTTP_WEBHOOK_SIGNATURE": "v1,bm90LXRoZS1zaWduYXR1cmU="}, "bad_signature"),
        (lambda h, s: {k: v for k, v in h.items() if k != "HTTP_WEBHOOK_SIGNATURE"}, "missing_signature"),
        (lambda h, s: {k: v for k, v in h.items() if k != "HTTP_WEBHOOK_ID"}, "missing_webhook_headers"),
        (lambda h, s: {**h, "HTTP_WEBHOOK_TIMESTAMP": "soon"}, "bad_timestamp"),
        (lambda h, s: standard_headers(s, BODY, timestamp=int(time.time()) - 301), "stale_timestamp"),
        (lambda h, s: standard_headers(s, BODY, timestamp=int(time.time()) + 301), "stale_timestamp"),
        (lambda h, s: standard_headers("whsec_" + "A" * 44, BODY), "bad_signature"),
        (lambda h, s: {**x_signature_headers(s, BODY), "HTTP_X_SIGNATURE": "sha256=" + "0" * 64}, "bad_signature"),
        (lambda h, s: {**x_signature_headers(s, BODY), "HTTP_X_SIGNATURE": "md5=abc"}, "bad_signature"),
    ],
)
def test_bad_signatures_are_401_nothing_stored_nothing_leaked(client, source, caplog, mutate, reason):
    src, secret = source
    headers = mutate(standard_headers(secret, BODY), secret)
    with caplog.at_level(logging.INFO):
        response = post(client, src, BODY, headers)
    assert response.status_code == 401 and response.json()["error"] == reason
    assert not WebhookEvent.objects.exists()
    assert secret not in caplog.text and secret not in response.content.decode()


def test_tampered_body_is_401(client, source):
    src, secret = source
    headers = standard_headers(secret, BODY)
    assert post(client, src, BODY.replace(b"o1", b"o2"), headers).status_code == 401
    assert not WebhookEvent.objects.exists()


def test_replayed_webhook_id_is_stored_once(client, source, django_capture_on_commit_callbacks):
    src, secret = source
    with django_capture_on_commit_callbacks() as callbacks:
        first = post(client, src, BODY, standard_headers(secret, BODY, webhook_id="msg_42"))
        # The sender's retry: same id, new timestamp (and so a new signature).
        again = post(client, src, BODY, standard_headers(secret, BODY, webhook_id="msg_42",
                                                         timestamp=int(time.time()) + 5))
    assert first.json() == {"status": "accepted"} and again.json() == {"status": "duplicate"}
    assert WebhookEvent.objects.count() == 1 and len(callbacks) == 1
    other = post(client, src, BODY, standard_headers(secret, BODY, webhook_id="msg_43"))
    assert other.json() == {"status": "accepted"}


def test_rotated_secret_old_works_during_grace_then_stops(client, source):
    src, old = source
    new = services.custom_source_rotate_secret(source=src, grace_seconds=3600)
    assert new != old
    assert post(client, src, BODY, standard_headers(new, BODY, webhook_id="a")).status_code == 200
    assert post(client, src, BODY, standard_headers(old, BODY, webhook_id="b")).status_code == 200
    services.custom_source_rotate_secret(source=src, grace_seconds=0)  # both previous secrets end now
    assert post(client, src, BODY, standard_headers(new, BODY, webhook_id="c")).status_code == 401
    assert post(client, src, BODY, standard_headers(old, BODY, webhook_id="d")).status_code == 401
    assert WebhookEvent.objects.count() == 2


def test_revoked_source_is_401(client, source):
    src, secret = source
    services.custom_source_revoke(source=src)
    response = post(client, src, BODY, standard_headers(secret, BODY))
    assert response.status_code == 401 and response.json()["error"] == "source_revoked"
    assert not WebhookEvent.objects.exists()
    with pytest.raises(services.CustomSourceError):
        services.custom_source_rotate_secret(source=src)


def test_unknown_source_is_401(client, source):
    src, secret = source
    src.public_id = "nope"
    assert post(client, src, BODY, standard_headers(secret, BODY)).status_code == 401


def test_disabled_setting_is_403(client, source):
    src, secret = source
    src.ws.lifecycle(client, "SETTINGS_UPDATED", {
        "workspaceId": src.ws.workspace_id, "addonId": src.ws.addon_id,
        "settings": [{"id": "enable_custom_webhooks", "value": False}]})
    response = post(client, src, BODY, standard_headers(secret, BODY))
    assert response.status_code == 403 and response.json()["error"] == "custom_webhooks_disabled"
    assert not WebhookEvent.objects.exists()


def test_api_studio_has_no_custom_webhooks(client, installed, source):
    src, secret = source
    response = post(client, src, BODY, standard_headers(secret, BODY), variant="api-studio")
    assert response.status_code == 404
    ws = installed("api-studio")
    with pytest.raises(services.CustomSourceError):
        services.custom_source_create(installation=Installation.objects.get(workspace_id=ws.workspace_id), name="x")


def test_malformed_json_is_400_and_too_large_413(client, source, settings):
    src, secret = source
    raw = b"{oops"
    response = post(client, src, raw, standard_headers(secret, raw))
    assert response.status_code == 400 and response.json()["error"] == "bad_json"
    settings.WEBHOOK_MAX_BODY_BYTES = 10
    assert post(client, src, BODY, standard_headers(secret, BODY)).status_code == 413
    assert not WebhookEvent.objects.exists()


def test_deleted_installation_is_401(client, source):
    src, secret = source
    assert src.ws.lifecycle(client, "DELETED").status_code == 200
    assert post(client, src, BODY, standard_headers(secret, BODY)).status_code == 401
    assert not WebhookEvent.objects.exists()


def test_duplicate_name_is_refused(source):
    src, _ = source
    with pytest.raises(services.CustomSourceError):
        services.custom_source_create(installation=src.installation, name="Shop")
