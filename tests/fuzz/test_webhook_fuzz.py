"""Fuzzing the webhook endpoints (issue 9, item 6): Clockify's per-event paths and custom sources.

Properties, for every generated request: no 5xx; a refused request (anything but 200) stores
nothing anywhere (every table's row count compared); an accepted one stores at most one event;
no response echoes the token or signature it was sent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from django.test import Client
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from addons.catalog import EVENTS
from addons.manifest import webhook_path
from installations.models import Installation
from tests.fuzz.strategies import HOSTILE_BODIES, db_snapshot, header_text, json_values, mutated, raw_bodies
from webhooks import services
from webhooks.models import WebhookEvent
from webhooks.tests.conftest import x_signature_headers

pytestmark = pytest.mark.django_db

FUZZ = settings(max_examples=200, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])
SLUGS = sorted(webhook_path(name).rsplit("/", 1)[1] for name in EVENTS)
SLUG_TO_EVENT = {webhook_path(name).rsplit("/", 1)[1]: name for name in EVENTS}


@pytest.fixture
def world(installed, make_workspace, foreign_keys, settings):
    settings.WEBHOOK_INGEST_RATE_PER_SECOND = 0  # the limiter is not the subject; its 429 would mask the rest
    studio, uw = installed("api-studio"), installed("universal-webhook")
    stranger = make_workspace("universal-webhook")
    tokens = {
        "webhook": uw.minter.webhook_token(),
        "webhook_studio": studio.minter.webhook_token(),
        "webhook_stranger": stranger.minter.webhook_token(),
        "lifecycle": uw.minter.lifecycle_token(),
        "user": uw.minter.user_token(),
        "forged": uw.minter.sign(uw.minter.base_claims(), key=foreign_keys.private_pem),
        "alg_none": jwt.encode(uw.minter.base_claims(), None, algorithm="none"),
        "no_workspace": uw.minter.webhook_token(workspaceId=None),
        "workspace_not_a_string": uw.minter.webhook_token(workspaceId=["x"]),
        "garbage": "eyJhbGciOiJSUzI1NiJ9.e30.c2ln",
    }
    installation = Installation.objects.get(workspace_id=uw.workspace_id, variant="universal-webhook")
    source, secret = services.custom_source_create(installation=installation, name="Shop")
    return {"uw": uw, "studio": studio, "tokens": tokens, "source": source, "secret": secret}


def _sample(ws, event_name: str) -> dict:
    return {"id": f"{EVENTS[event_name].entity_type}-{time.monotonic_ns()}", "workspaceId": ws.workspace_id,
            "userId": "user-1", "projectId": "proj-1", "description": "fuzz"}


@given(data=st.data())
@FUZZ
def test_clockify_webhooks_never_5xx_and_refusals_store_nothing(world, data):
    uw = world["uw"]
    variant = data.draw(st.sampled_from(["universal-webhook"] * 4 + ["api-studio"]), label="variant")
    slug = data.draw(st.sampled_from(SLUGS) | st.just("new-time-entry") | header_text.filter(
        lambda s: s and "/" not in s and "?" not in s and "#" not in s and "%" not in s), label="slug")
    event_name = SLUG_TO_EVENT.get(slug, "NEW_TIME_ENTRY")
    token_name = data.draw(st.sampled_from(["webhook"] * 10 + sorted(world["tokens"]) + ["random", "none"]),
                           label="token")
    token = {"random": lambda: data.draw(header_text, label="random token"),
             "none": lambda: None}.get(token_name, lambda: world["tokens"][token_name])()
    event_type = data.draw(st.sampled_from([event_name] * 6 + ["NEW_PROJECT", "", "new_time_entry"])
                           | header_text, label="event type header")
    body = data.draw(st.one_of(
        raw_bodies,
        mutated(_sample(uw, event_name)).map(lambda b: json.dumps(b).encode()),
        st.just(_sample(uw, event_name)).map(lambda b: json.dumps(b).encode()),
    ), label="body")
    headers = {"HTTP_CLOCKIFY_WEBHOOK_EVENT_TYPE": event_type}
    if token is not None:
        headers["HTTP_CLOCKIFY_SIGNATURE"] = token

    before = db_snapshot()
    events_before = WebhookEvent.objects.count()
    response = Client().post(f"/{variant}/webhooks/{slug}", data=body, content_type="application/json", **headers)
    event(f"{token_name} -> {response.status_code}")
    assert response.status_code < 500, response.content[:500]
    if response.status_code != 200:
        assert db_snapshot() == before, f"a refused request ({response.status_code}) changed the database"
    else:
        assert WebhookEvent.objects.count() - events_before <= 1
    if token and len(token) > 8:
        assert token.encode() not in response.content


def _standard_headers(secret: str, body: bytes, webhook_id: str, ts: str) -> dict[str, str]:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    sig = base64.b64encode(hmac.new(key, f"{webhook_id}.{ts}.".encode() + body, hashlib.sha256).digest()).decode()
    return {"HTTP_WEBHOOK_ID": webhook_id, "HTTP_WEBHOOK_TIMESTAMP": ts, "HTTP_WEBHOOK_SIGNATURE": f"v1,{sig}"}


@given(data=st.data())
@FUZZ
def test_custom_webhooks_never_5xx_and_refusals_store_nothing(world, data):
    source, secret = world["source"], world["secret"]
    source_id = data.draw(st.sampled_from([source.public_id] * 6) | header_text.filter(
        lambda s: s and "/" not in s and "?" not in s and "#" not in s and "%" not in s), label="source id")
    body = data.draw(st.one_of(raw_bodies, json_values.map(lambda v: json.dumps(v).encode())), label="body")
    scheme = data.draw(st.sampled_from(["standard", "standard_stale", "x_signature", "random", "none"]),
                       label="signing")
    webhook_id = data.draw(st.sampled_from(["msg_1", ""]) | header_text, label="webhook-id")
    now = int(time.time())
    if scheme == "standard":
        headers = _standard_headers(secret, body, webhook_id, str(now))
    elif scheme == "standard_stale":
        headers = _standard_headers(secret, body, webhook_id, str(now - 3600))
    elif scheme == "x_signature":
        headers = {**x_signature_headers(secret, body), "HTTP_WEBHOOK_ID": webhook_id}
    elif scheme == "random":
        headers = {"HTTP_WEBHOOK_ID": webhook_id, "HTTP_WEBHOOK_TIMESTAMP": data.draw(header_text),
                   "HTTP_WEBHOOK_SIGNATURE": data.draw(header_text), "HTTP_X_SIGNATURE": data.draw(header_text)}
    else:
        headers = {}
    variant = data.draw(st.sampled_from(["universal-webhook"] * 4 + ["api-studio"]), label="variant")

    before = db_snapshot()
    events_before = WebhookEvent.objects.count()
    response = Client().post(f"/{variant}/webhooks/custom/{source_id}", data=body, content_type="application/json",
                             **headers)
    event(f"{scheme} -> {response.status_code}")
    assert response.status_code < 500, response.content[:500]
    if response.status_code != 200:
        assert db_snapshot() == before, f"a refused request ({response.status_code}) changed the database"
    else:
        assert WebhookEvent.objects.count() - events_before <= 1
    assert secret.encode() not in response.content


@pytest.mark.parametrize("kind", sorted(HOSTILE_BODIES))
@pytest.mark.parametrize("endpoint", ["clockify", "custom"])
def test_hostile_json_is_answered_without_5xx(world, endpoint, kind):
    body = HOSTILE_BODIES[kind]
    if endpoint == "clockify":
        url, headers = f"/universal-webhook{webhook_path('NEW_TIME_ENTRY')}", {
            "HTTP_CLOCKIFY_SIGNATURE": world["tokens"]["webhook"], "HTTP_CLOCKIFY_WEBHOOK_EVENT_TYPE": "NEW_TIME_ENTRY"}
    else:
        url = f"/universal-webhook/webhooks/custom/{world['source'].public_id}"
        headers = _standard_headers(world["secret"], body, "msg_hostile", str(int(time.time())))
    before, events_before = db_snapshot(), WebhookEvent.objects.count()
    response = Client().post(url, data=body, content_type="application/json", **headers)
    assert response.status_code in (200, 400), (response.status_code, response.content[:300])
    if response.status_code == 400:
        assert db_snapshot() == before
    else:  # accepted: stored once, in a form the database holds
        assert WebhookEvent.objects.count() == events_before + 1


@pytest.mark.parametrize("path", ["webhooks/custom/%00x", "webhooks/%00x", "webhooks/new-time-entry%00"])
def test_paths_with_nul_bytes_are_refused_not_500(world, path):
    """PostgreSQL text cannot hold NUL: a source id or event slug carrying one is refused before any query."""
    before = db_snapshot()
    response = Client(raise_request_exception=False).post(
        f"/universal-webhook/{path}", data=b"{}", content_type="application/json",
        HTTP_CLOCKIFY_SIGNATURE=world["tokens"]["webhook"], HTTP_CLOCKIFY_WEBHOOK_EVENT_TYPE="NEW_TIME_ENTRY")
    assert response.status_code in (400, 401, 404), response.status_code
    assert db_snapshot() == before
