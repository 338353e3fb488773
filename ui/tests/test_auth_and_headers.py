"""Every page and page XHR verifies the user token on its own, sends the framing CSP, no
X-Frame-Options DENY, and no cookie."""

from __future__ import annotations

import time

import pytest
from django.test import Client

from clockify_standin.signing import TokenMinter

PAGES_BOTH = ["dashboard", "webhooks", "flows", "flows/new", "explorer", "settings"]


def _assert_frame_headers(response, settings) -> None:
    csp = response["Content-Security-Policy"]
    assert f"frame-ancestors {' '.join(settings.CLOCKIFY_FRAME_ANCESTORS)}" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "X-Frame-Options" not in response
    assert "Set-Cookie" not in response
    assert not response.cookies
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize("variant", ["api-studio", "universal-webhook"])
@pytest.mark.parametrize("path", PAGES_BOTH)
def test_pages_render_with_a_valid_token(installed, page, settings, variant, path):
    ws = installed(variant)
    response = page(ws, path)
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("text/html")
    _assert_frame_headers(response, settings)
    body = response.content.decode()
    assert '<script src="/static/ui/js/token.js"' in body
    assert "<script>" not in body  # no inline script anywhere (the CSP would block it)


def test_custom_sources_page_is_enterprise_only(installed, page):
    enterprise = installed("universal-webhook")
    standard = installed("api-studio")
    assert page(enterprise, "sources").status_code == 200
    assert page(standard, "sources").status_code == 404
    assert b"/ui/sources?" in page(enterprise, "dashboard").content
    assert b"/ui/sources?" not in page(standard, "dashboard").content


def test_frame_ancestors_follow_the_setting(installed, page, settings):
    settings.CLOCKIFY_FRAME_ANCESTORS = ["https://app.clockify.me", "https://*.example.test"]
    response = page(installed(), "dashboard")
    assert "frame-ancestors https://app.clockify.me https://*.example.test" in response["Content-Security-Policy"]


def _bad_tokens(ws, foreign_keys, other_ws):
    now = int(time.time())
    forger = TokenMinter(foreign_keys.private_pem, addon_key=ws.variant.key, workspace_id=ws.workspace_id,
                         addon_id=ws.addon_id)
    return {
        "missing": "",
        "garbage": "not-a-jwt",
        "expired": ws.minter.user_token(ttl_seconds=-3600),
        "forged": forger.user_token(),
        "other_workspace": other_ws.minter.user_token(),
        "other_addon_key": ws.minter.user_token(sub="some-other-addon"),
        "wrong_addon_id": ws.minter.user_token(addonId="addon-x"),
        "no_expiry": ws.minter.sign(ws.minter.base_claims(user="u", workspaceRole="OWNER")),
        "hs256": ws.minter.sign(ws.minter.base_claims(user="u", exp=now + 600), algorithm="HS256",
                                 key="an-hmac-secret-that-is-long-enough-for-sha256"),
    }


def test_bad_tokens_get_the_refresh_page(installed, make_workspace, foreign_keys, client, settings):
    ws = installed("universal-webhook")
    stranger = make_workspace("universal-webhook")  # never installed
    for name, token in _bad_tokens(ws, foreign_keys, stranger).items():
        response = client.get("/universal-webhook/ui/dashboard", {"auth_token": token} if token else {})
        assert response.status_code == 401, name
        body = response.content.decode()
        assert "ui/js/refresh.js" in body, name
        assert ws.workspace_id not in body and "Workspace data" not in body, name  # nothing leaked
        if token:
            assert token not in body, name  # the bad token is not echoed
        _assert_frame_headers(response, settings)


def test_bad_tokens_get_401_on_xhr(installed, make_workspace, foreign_keys, xhr):
    ws = installed("universal-webhook")
    stranger = make_workspace("universal-webhook")
    for name, token in _bad_tokens(ws, foreign_keys, stranger).items():
        response = xhr(ws, "GET", "ui/dashboard/bootstrap", token=token or "")
        assert response.status_code == 401, name
        assert response.json()["error"], name
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert "Set-Cookie" not in response


def test_a_token_of_one_add_on_does_not_open_the_other(installed, xhr):
    ws = installed("api-studio")
    token = ws.minter.user_token()
    response = xhr(ws, "GET", "ui/dashboard/bootstrap", token=token)
    assert response.status_code == 200
    # Same token against the other add-on's URL: wrong ``sub`` and no installation there.
    other = Client().get("/universal-webhook/ui/dashboard/bootstrap", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert other.status_code == 401


def test_deleted_installation_is_refused(installed, page, client):
    ws = installed("universal-webhook")
    assert ws.lifecycle(client, "DELETED").status_code == 200
    assert page(ws, "dashboard").status_code == 401


def test_post_xhr_needs_no_csrf_cookie_but_a_bearer_token(installed, db):
    ws = installed("universal-webhook")
    strict = Client(enforce_csrf_checks=True)
    token = ws.minter.user_token(role="OWNER")
    ok = strict.post("/universal-webhook/ui/dashboard/bootstrap/run", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert ok.status_code in (202, 409)  # started, or refused for a reason other than CSRF
    assert "Set-Cookie" not in ok
    anonymous = strict.post("/universal-webhook/ui/dashboard/bootstrap/run")
    assert anonymous.status_code == 401


def test_theme_and_admin_flags_come_from_the_token(installed, page):
    ws = installed("universal-webhook")
    dark = page(ws, "dashboard", theme="DARK").content.decode()
    light = page(ws, "dashboard").content.decode()
    assert 'class="theme-dark"' in dark and 'class="theme-light"' in light
    assert '"isAdmin": true' in light
    assert '"isAdmin": false' in page(ws, "dashboard", role="TEAM_MANAGER").content.decode()


def test_not_found_renders_inside_the_frame(installed, page, settings):
    ws = installed("api-studio")
    response = page(ws, "sources")  # not on this plan
    assert response.status_code == 404
    assert 'id="not-found"' in response.content.decode()
    _assert_frame_headers(response, settings)
    assert page(ws, "flows/flw_nope").status_code == 404
