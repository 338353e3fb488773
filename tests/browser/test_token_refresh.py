"""An expired token makes the page ask Clockify (the parent window) for a fresh one with the
``refreshAddonToken`` window message, then retry with the token it receives; same for an XHR
that gets a 401 mid-session."""

from __future__ import annotations

import time

import pytest

from tests.browser.conftest import needs_chromium

pytestmark = [pytest.mark.browser, needs_chromium]


def _wait(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    return predicate()


def test_expired_page_token_sends_the_refresh_message_and_reloads(framed, installed, shoot):
    ws = installed("universal-webhook")
    expired = ws.minter.user_token(ttl_seconds=-3600)
    fresh = ws.minter.user_token()
    framed.open("/universal-webhook/ui/settings", expired, fresh_token=fresh)
    assert _wait(lambda: any(m == {"action": "refreshAddonToken"} for m in framed.messages())), framed.messages()
    # The page reloads itself with the token the parent sent, and renders.
    frame = framed.frame()
    assert _wait(lambda: "auth_token=" + fresh in (framed.frame().url or ""))
    frame = framed.frame()
    frame.wait_for_selector("main.content h1")
    assert "Settings" in frame.inner_text("main.content h1")
    shoot("after-refresh")


def test_refresh_page_without_an_answer_says_so(framed, installed, shoot):
    ws = installed("universal-webhook")
    frame = framed.open("/universal-webhook/ui/dashboard", ws.minter.user_token(ttl_seconds=-3600))
    assert _wait(lambda: any(m == {"action": "refreshAddonToken"} for m in framed.messages()))
    assert frame.locator("h1").inner_text().startswith("Refreshing")
    shoot("refresh-waiting")


def test_xhr_401_refreshes_the_token_and_retries(framed, installed, settings):
    settings.CLOCKIFY_TOKEN_LEEWAY_SECONDS = 0
    ws = installed("universal-webhook")
    fresh = ws.minter.user_token()
    short = ws.minter.user_token(ttl_seconds=2)
    frame = framed.open("/universal-webhook/ui/dashboard", short, fresh_token=fresh)
    frame.wait_for_selector("main.content")
    time.sleep(3)  # the page stays open past its token's expiry
    result = frame.evaluate("""async () => {
        const data = await window.UI.api("GET", "ui/dashboard/bootstrap");
        return {status: data.status, token: window.UIToken.get()}; }""")
    assert result["status"]  # the XHR answered after the refresh
    assert result["token"] == fresh
    assert any(m == {"action": "refreshAddonToken"} for m in framed.messages())
