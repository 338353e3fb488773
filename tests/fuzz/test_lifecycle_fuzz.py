"""Fuzzing the lifecycle endpoints (issue 9, item 6): hypothesis-generated bodies and headers.

Properties, for every generated request: no 5xx; a rejected request (4xx) stores nothing and
changes no installation (every table's row count and every installation's fields are compared
before and after); no response echoes the token it was sent.
"""

from __future__ import annotations

import json

import jwt
import pytest
from django.test import Client
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from addons.manifest import lifecycle_path
from tests.fuzz.strategies import HOSTILE_BODIES, db_snapshot, header_text, json_values, mutated, raw_bodies

pytestmark = pytest.mark.django_db

LIFECYCLES = ("INSTALLED", "DELETED", "SETTINGS_UPDATED", "STATUS_CHANGED")
FUZZ = settings(max_examples=150, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])


@pytest.fixture
def world(installed, make_workspace, foreign_keys):
    """Two live installations, one workspace never installed, and the tokens an attacker could hold."""
    studio, uw = installed("api-studio"), installed("universal-webhook")
    stranger = make_workspace("universal-webhook")
    tokens = {
        "none": None,
        "garbage": "not-a-jwt",
        "lifecycle": uw.minter.lifecycle_token(),
        "lifecycle_other_variant": studio.minter.lifecycle_token(),
        "lifecycle_stranger": stranger.minter.lifecycle_token(),
        "expired": uw.minter.lifecycle_token(ttl_seconds=-3600),
        "wrong_issuer": uw.minter.lifecycle_token(iss="evil"),
        "wrong_type": uw.minter.lifecycle_token(type="user"),
        "forged": uw.minter.sign(uw.minter.base_claims(), key=foreign_keys.private_pem),
        "alg_none": jwt.encode(uw.minter.base_claims(), None, algorithm="none"),
        "hs256": uw.minter.sign(uw.minter.base_claims(), algorithm="HS256", key="k" * 32),
        "webhook": uw.minter.webhook_token(),
        "user": uw.minter.user_token(),
    }
    return {"uw": uw, "studio": studio, "stranger": stranger, "tokens": tokens}


def _bodies(world):
    uw, stranger = world["uw"], world["stranger"]
    valid = {
        "INSTALLED": uw.installed_body(),
        "DELETED": {"addonId": uw.addon_id, "workspaceId": uw.workspace_id, "asUser": "owner-user"},
        "SETTINGS_UPDATED": {"addonId": uw.addon_id, "workspaceId": uw.workspace_id,
                             "settings": [{"id": "enable_custom_webhooks", "name": "x", "value": True}]},
        "STATUS_CHANGED": {"addonId": uw.addon_id, "workspaceId": uw.workspace_id, "status": "INACTIVE"},
    }
    return valid, stranger.installed_body()


@given(data=st.data())
@FUZZ
def test_lifecycle_endpoints_never_5xx_and_rejections_store_nothing(world, data):
    client = Client()
    valid, stranger_install = _bodies(world)
    lifecycle = data.draw(st.sampled_from(LIFECYCLES), label="lifecycle")
    variant = data.draw(st.sampled_from(["universal-webhook"] * 4 + ["api-studio"]), label="variant")
    # Mostly the genuine token, so that most requests get past verification to the body checks.
    token_name = data.draw(st.sampled_from(["lifecycle"] * 12 + sorted(world["tokens"]) + ["random"]), label="token")
    token = data.draw(header_text, label="random token") if token_name == "random" else world["tokens"][token_name]
    header = data.draw(st.sampled_from(["HTTP_X_ADDON_LIFECYCLE_TOKEN", "HTTP_CLOCKIFY_SIGNATURE"]), label="header")
    body = data.draw(st.one_of(
        raw_bodies,
        mutated(valid[lifecycle]).map(lambda b: json.dumps(b).encode()),
        st.just(stranger_install).map(lambda b: json.dumps(b).encode()),
        json_values.map(lambda v: json.dumps({**valid[lifecycle], "settings": v}).encode()),
    ), label="body")
    content_type = data.draw(st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded"]))
    headers = {header: token} if token is not None else {}

    before = db_snapshot()
    response = client.post(f"/{variant}{lifecycle_path(lifecycle)}", data=body, content_type=content_type,
                           **headers)
    event(f"{lifecycle} {token_name} -> {response.status_code}")
    assert response.status_code < 500, response.content[:500]
    if response.status_code >= 400:
        assert db_snapshot() == before, f"a rejected request ({response.status_code}) changed the database"
    if token and len(token) > 8:
        assert token.encode() not in response.content


@example(method="GET")
@example(method="PUT")
@given(method=st.sampled_from(["GET", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]))
@FUZZ
def test_lifecycle_other_methods_are_refused_without_writes(world, method):
    before = db_snapshot()
    response = Client().generic(method, "/universal-webhook" + lifecycle_path("DELETED"), b"{}",
                                HTTP_X_ADDON_LIFECYCLE_TOKEN=world["tokens"]["lifecycle"])
    assert 400 <= response.status_code < 500
    assert db_snapshot() == before


@pytest.mark.parametrize("kind", sorted(HOSTILE_BODIES))
@pytest.mark.parametrize("lifecycle", LIFECYCLES)
def test_hostile_json_is_refused_with_400(world, lifecycle, kind):
    before = db_snapshot()
    response = Client().post("/universal-webhook" + lifecycle_path(lifecycle), data=HOSTILE_BODIES[kind],
                             content_type="application/json",
                             HTTP_X_ADDON_LIFECYCLE_TOKEN=world["tokens"]["lifecycle"])
    assert response.status_code == 400, (response.status_code, response.content[:300])
    assert db_snapshot() == before
