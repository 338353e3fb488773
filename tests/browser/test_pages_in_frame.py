"""Every page loads inside a Clockify-like parent frame with a signed token, runs its scripts
without errors, and is refused to a parent outside the allowed frame ancestors."""

from __future__ import annotations

import pytest

from tests.browser.conftest import needs_chromium

pytestmark = [pytest.mark.browser, needs_chromium]

PAGES = {
    "universal-webhook": ["dashboard", "webhooks", "flows", "flows/new", "explorer", "sources", "settings"],
    "api-studio": ["dashboard", "webhooks", "flows", "explorer", "settings"],
}


@pytest.mark.parametrize("variant", sorted(PAGES))
def test_every_page_loads_in_the_frame(framed, installed, shoot, variant):
    ws = installed(variant)
    token = ws.minter.user_token(role="OWNER")
    for name in PAGES[variant]:
        frame = framed.open(f"/{variant}/ui/{name}", token)
        frame.wait_for_selector("main.content")
        assert frame.locator("nav.tabs a.tab.active").count() == 1, name
        frame.wait_for_timeout(150)  # let deferred scripts run
        assert framed.js_errors == [], (name, framed.js_errors)
        shoot(f"{variant}-{name.replace('/', '-')}")


def test_dark_theme_at_sidebar_width(framed, installed, shoot):
    ws = installed("universal-webhook")
    token = ws.minter.user_token(theme="DARK")
    for name in PAGES["universal-webhook"]:
        frame = framed.open(f"/universal-webhook/ui/{name}", token, width=420)
        frame.wait_for_selector("main.content")
        assert frame.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(30, 37, 43)", name
        # Usable at sidebar width: the page itself never scrolls sideways (wide tables scroll in their box).
        overflow = frame.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, (name, overflow)
        shoot(f"dark-narrow-{name.replace('/', '-')}")


def test_a_foreign_parent_cannot_frame_the_pages(framed, installed):
    ws = installed("universal-webhook")
    framed.open("/universal-webhook/ui/dashboard", ws.minter.user_token(), foreign_parent=True)
    framed.tab.wait_for_timeout(500)
    frame = framed.tab.frame_locator("iframe#addon")
    # Chromium replaces a frame-ancestors violation with an error page: our content never renders.
    assert frame.locator("main.content").count() == 0
