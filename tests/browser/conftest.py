"""Headless Chromium (Debian's /usr/bin/chromium, driven by Playwright) against pytest-django's
live server. Each page is opened inside an iframe of a stand-in Clockify parent page served by a
small loopback HTTP server of its own (another origin; a Playwright route would count as a public
address and Chromium's local-network checks would refuse to frame the live server from it). That
origin is the only one the pages' ``frame-ancestors`` allow. The parent answers
``refreshAddonToken`` like Clockify would.

A failed test leaves a screenshot in a temporary folder whose path is printed.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - requirements-dev installs it
    sync_playwright = None

pytestmark = pytest.mark.browser

needs_chromium = pytest.mark.skipif(
    sync_playwright is None or not os.path.exists(CHROMIUM),
    reason=f"needs Playwright and Chromium at {CHROMIUM} (.ci/run installs it)",
)

_SHOTS: dict[str, Path] = {}


def screenshot_dir() -> Path:
    if "dir" not in _SHOTS:
        _SHOTS["dir"] = Path(tempfile.mkdtemp(prefix="ui-browser-screenshots-"))
    return _SHOTS["dir"]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="module")
def chromium():
    """One browser per test module. Playwright's sync API keeps an asyncio loop running in this
    thread, which Django's async-safety check mistakes for async code calling the ORM; the check
    is relaxed only while the browser runs (module scope, so the rest of the suite keeps it)."""
    if sync_playwright is None or not os.path.exists(CHROMIUM):
        pytest.skip(f"needs Playwright and Chromium at {CHROMIUM}")
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


PARENT_HTML = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Clockify (stand-in)</title>
<style>body{margin:0;font-family:sans-serif;background:#eee}header{height:40px;background:#03a9f4;color:#fff;
padding:10px}iframe{border:0;width:100%;height:calc(100vh - 60px);background:#fff}</style></head>
<body><header>Clockify stand-in parent</header><iframe id="addon" src="__SRC__"></iframe>
<script>
window.__messages = [];
window.__freshToken = __FRESH__;
window.addEventListener("message", function (event) {
  var data = event.data;
  try { if (typeof data === "string") data = JSON.parse(data); } catch (e) {}
  window.__messages.push(data);
  if (data && data.action === "refreshAddonToken" && window.__freshToken) {
    event.source.postMessage({ title: "refreshAddonToken", body: window.__freshToken }, "*");
  }
});
</script></body></html>"""


class ParentServer:
    """Serves the parent page; ``html`` is set per test before the browser loads it."""

    def __init__(self) -> None:
        owner = self
        self.html = "<!DOCTYPE html><title>empty</title>"

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's naming
                body = owner.html.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):  # keep test output quiet
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def parents():
    """Two parent origins: the allowed stand-in Clockify, and a stranger."""
    clockify, stranger = ParentServer(), ParentServer()
    yield clockify, stranger
    clockify.close()
    stranger.close()


class Framed:
    """A browser tab with the stand-in Clockify parent and our page in its iframe."""

    def __init__(self, tab, live_url: str, clockify: ParentServer, stranger: ParentServer) -> None:
        self.tab = tab
        self.live_url = live_url
        self.clockify = clockify
        self.stranger = stranger

    def open(self, path: str, token: str, *, fresh_token: str | None = None, foreign_parent: bool = False,
             width: int = 1000, height: int = 900):
        src = f"{self.live_url}{path}{'&' if '?' in path else '?'}auth_token={token}"
        parent = self.stranger if foreign_parent else self.clockify
        parent.html = PARENT_HTML.replace("__SRC__", src).replace("__FRESH__", json.dumps(fresh_token))
        self.tab.set_viewport_size({"width": width, "height": height})
        self.tab.goto(f"{parent.origin}/tracker")
        return self.frame()

    def frame(self):
        handle = self.tab.wait_for_selector("iframe#addon")
        frame = handle.content_frame()
        frame.wait_for_load_state("load")
        return frame

    def messages(self) -> list:
        return self.tab.evaluate("window.__messages")


@pytest.fixture
def framed(chromium, parents, live_server, settings, request):
    clockify, stranger = parents
    settings.CLOCKIFY_FRAME_ANCESTORS = [clockify.origin]
    context = chromium.new_context()
    tab = context.new_page()
    tab.set_default_timeout(10000)
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on("dialog", lambda dialog: dialog.accept())  # the pages confirm() before changes
    helper = Framed(tab, live_server.url, clockify, stranger)
    helper.js_errors = errors
    yield helper
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        path = screenshot_dir() / f"{request.node.name}.png"
        try:
            tab.screenshot(path=str(path), full_page=True)
            print(f"\nscreenshot of the failed browser test: {path}")
        except Exception as exc:  # the browser may be the thing that failed
            print(f"\nno screenshot ({exc}); folder: {screenshot_dir()}")
    context.close()


@pytest.fixture
def shoot(framed):
    """Save a screenshot on purpose (UI_SCREENSHOT_DIR, for looking at the pages)."""
    folder = os.environ.get("UI_SCREENSHOT_DIR")

    def _shoot(name: str) -> None:
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            framed.tab.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)

    return _shoot
