"""Hostile JSON bodies on every JSON endpoint of the pages (issue 15, items 2 and 3).

The DRF API (``/<variant>/api/v1/``) and the pages' XHRs share one bounded parser: too deep,
too large, NUL in a string, invalid UTF-8, lone surrogates and numbers PostgreSQL cannot hold
are answered 4xx with a reason, and nothing is stored. Real PostgreSQL when DATABASE_URL is set.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client

from flows.models import Flow
from tests.fuzz.strategies import db_snapshot

pytestmark = pytest.mark.django_db

FLOW = {
    "name": "ok",
    "trigger": {"events": ["NEW_TIME_ENTRY"]},
    "actions": [{"type": "clockify", "operation": "getTags"}],
}

# (kind, body, words the reason must contain)
HOSTILE = [
    ("deep_array", b"[" * 5000 + b"]" * 5000, "nest"),
    ("deep_object", b'{"a":' * 3000 + b"1" + b"}" * 3000, "nest"),
    ("nul_in_value", json.dumps({**FLOW, "name": "a\u0000b"}).encode(), "NUL"),
    ("nul_in_key", json.dumps({**FLOW, "trigger": {"events\u0000": []}}).encode(), "NUL"),
    ("invalid_utf8", b'{"name": "caf\xe9", "trigger": {}}', "UTF-8"),
    ("lone_surrogate", b'{"name": "\\ud800", "actions": []}', "surrogate"),
    ("huge_number", b'{"name": "x", "n": 1e999999}', "number"),
    ("long_integer", b'{"name": "x", "n": ' + b"9" * 5000 + b"}", "number"),
    ("nan", b'{"name": "x", "n": NaN}', "JSON"),
]


@pytest.fixture
def world(clockify_side, standin, client):
    side = clockify_side("universal-webhook", platform=client, standin=standin, seed_size=10)
    assert side.install().status_code == 200
    assert side.update_settings({"enable_generic_http_actions": True}).status_code == 200
    auth = {"HTTP_AUTHORIZATION": f"Bearer {side.user_token('OWNER')}"}
    flow = client.post(f"/{side.variant_slug}/api/v1/flows", json.dumps(FLOW), content_type="application/json",
                       **auth)
    assert flow.status_code == 201, flow.content
    return {"side": side, "auth": auth, "flow_id": flow.json()["id"]}


def _endpoints(world) -> list[tuple[str, str]]:
    base, flow_id = f"/{world['side'].variant_slug}", world["flow_id"]
    return [
        ("POST", f"{base}/api/v1/flows"),
        ("PUT", f"{base}/api/v1/flows/{flow_id}"),
        ("PATCH", f"{base}/api/v1/flows/{flow_id}"),
        ("POST", f"{base}/api/v1/flows/test-run"),
        ("POST", f"{base}/api/v1/flows/{flow_id}/test-run"),
        ("POST", f"{base}/api/v1/explorer/execute"),
        ("POST", f"{base}/api/v1/explorer/save-as-flow-action"),
        ("POST", f"{base}/api/v1/bootstrap"),
        ("POST", f"{base}/ui/sources/create"),
    ]


@pytest.mark.parametrize("kind,body,reason", HOSTILE, ids=[k for k, _, _ in HOSTILE])
def test_hostile_bodies_are_400_with_a_reason_and_store_nothing(world, kind, body, reason):
    client = Client(raise_request_exception=False)
    for method, url in _endpoints(world):
        before = db_snapshot()
        response = client.generic(method, url, body, content_type="application/json", **world["auth"])
        assert response.status_code == 400, (method, url, response.status_code, response.content[:300])
        assert reason.lower() in response.content.decode().lower(), (url, response.content[:300])
        assert db_snapshot() == before, f"{method} {url} stored something from a refused body"


def test_explorer_execute_with_a_member_token_is_400_too(world):
    """Item 2 as reported: a USER token of any member, 5,000 nested arrays."""
    side = world["side"]
    response = Client(raise_request_exception=False).post(
        f"/{side.variant_slug}/api/v1/explorer/execute", b"[" * 5000 + b"]" * 5000, content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {side.user_token('USER')}")
    assert response.status_code == 400 and "nest" in response.json()["detail"]


def test_an_oversized_body_is_413(world, settings):
    settings.API_JSON_MAX_BYTES = 1000
    before = db_snapshot()
    big = json.dumps({**FLOW, "name": "x" * 2000}).encode()
    for method, url in _endpoints(world):
        response = Client().generic(method, url, big, content_type="application/json", **world["auth"])
        assert response.status_code == 413, (url, response.status_code, response.content[:200])
    assert db_snapshot() == before


def test_nesting_within_the_bound_is_accepted(world, settings):
    settings.API_JSON_MAX_DEPTH = 40
    deep = {"x": 1}
    for _ in range(30):
        deep = {"x": deep}
    doc = {**FLOW, "name": "deep", "actions": [{"type": "clockify", "operation": "createNewTag", "body": deep}]}
    response = Client().post(f"/{world['side'].variant_slug}/api/v1/flows", json.dumps(doc),
                             content_type="application/json", **world["auth"])
    assert response.status_code == 201, response.content


def test_nul_in_a_flow_name_is_400_not_500(world):
    """Item 3 as reported (PostgreSQL text cannot hold NUL)."""
    response = Client(raise_request_exception=False).post(
        f"/{world['side'].variant_slug}/api/v1/flows", json.dumps({**FLOW, "name": "bad\u0000name"}),
        content_type="application/json", **world["auth"])
    assert response.status_code == 400, response.content
    assert Flow.objects.count() == 1  # the fixture's
