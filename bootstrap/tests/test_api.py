"""The bootstrap JSON API: user-token auth, admin-only trigger, clear 4xx with nothing stored."""

from __future__ import annotations

import json

import pytest

from bootstrap.models import BootstrapRun, RunStatus


def _url(ws) -> str:
    return f"/{ws.variant.slug}/api/v1/bootstrap"


def _auth(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_status_before_and_after_a_trigger(standin_install, client):
    ws, installation = standin_install(size=20)
    response = client.get(_url(ws), **_auth(ws.minter.user_token(role="USER")))
    assert response.status_code == 200
    assert response.json()["run"] is None and response.json()["counts"] == {}

    response = client.post(_url(ws), data=json.dumps({}), content_type="application/json",
                           **_auth(ws.minter.user_token(role="ADMIN")))
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["run"]["status"] == "pending" and body["run"]["trigger"] == "api"
    assert [e["endpoint"] for e in body["endpoints"]] == ["addon-settings"]
    assert BootstrapRun.objects.filter(installation=installation, status=RunStatus.PENDING).count() == 1


def test_a_second_trigger_returns_the_active_run(standin_install, client):
    ws, installation = standin_install(size=20)
    token = ws.minter.user_token(role="OWNER")
    for _ in range(2):
        assert client.post(_url(ws), data="{}", content_type="application/json", **_auth(token)).status_code == 202
    assert BootstrapRun.objects.filter(installation=installation).count() == 1


@pytest.mark.parametrize("role", ["USER", "TEAM_MANAGER", ""])
def test_only_admins_may_trigger(standin_install, client, role):
    ws, installation = standin_install(size=20)
    response = client.post(_url(ws), data="{}", content_type="application/json",
                           **_auth(ws.minter.user_token(role=role)))
    assert response.status_code == 403
    assert not BootstrapRun.objects.exists()


def test_bad_body_is_a_400_and_starts_nothing(standin_install, client):
    ws, installation = standin_install(size=20)
    response = client.post(_url(ws), data=json.dumps({"fresh": "sometimes"}), content_type="application/json",
                           **_auth(ws.minter.user_token(role="ADMIN")))
    assert response.status_code == 400 and response.json()["error"] == "bad_request"
    assert not BootstrapRun.objects.exists()


def test_missing_forged_and_foreign_tokens_are_401(standin_install, client, make_workspace, foreign_keys):
    ws, installation = standin_install(size=20)
    stranger = make_workspace(ws.variant.slug)  # a workspace with no installation
    forged = make_workspace(ws.variant.slug, workspace_id=ws.workspace_id, addon_id=ws.addon_id,
                            private_pem=foreign_keys.private_pem)
    for headers in ({}, _auth("not-a-jwt"), _auth(stranger.minter.user_token()), _auth(forged.minter.user_token()),
                    _auth(ws.minter.user_token(ttl_seconds=-120))):
        assert client.get(_url(ws), **headers).status_code == 401
        assert client.post(_url(ws), data="{}", content_type="application/json", **headers).status_code == 401
    assert not BootstrapRun.objects.exists()


def test_a_user_token_of_the_other_variant_is_refused(standin_install, client):
    ws, installation = standin_install("api-studio", size=20)
    response = client.get("/universal-webhook/api/v1/bootstrap", **_auth(ws.minter.user_token()))
    assert response.status_code == 401
