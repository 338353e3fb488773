"""The Clockify client against the local stand-in: retries, refusals, pagination, metrics, logs."""

from __future__ import annotations

import logging
import math
import socket

import pytest
from prometheus_client import REGISTRY

from addons.clockify.client import ClockifyClient, ClockifyError, ClockifyHTTPError, ClockifyURLRefused


@pytest.fixture(autouse=True)
def _fast_backoff(settings):
    settings.CLOCKIFY_BACKOFF_BASE_SECONDS = 0.01
    settings.CLOCKIFY_BACKOFF_MAX_SECONDS = 0.05


def _calls(status: str) -> float:
    return REGISTRY.get_sample_value("platform_clockify_calls_total", {"status": status}) or 0.0


def test_get_sends_the_installation_token_to_the_installation_backend(standin_install, standin):
    ws, installation = standin_install(size=50)
    client = ClockifyClient.for_installation(installation)
    before = _calls("200")

    response = client.get(f"/v1/workspaces/{ws.workspace_id}")

    assert response.status == 200 and response.ok
    assert response.json()["id"] == ws.workspace_id
    assert response.attempts == 1 and response.elapsed_ms >= 0
    assert response.url.startswith(standin.backend_url)
    assert standin.request_log.count(workspace_id=ws.workspace_id) == 1
    assert _calls("200") == before + 1


def test_other_4xx_come_back_at_once_without_retry(standin_install, standin):
    ws, installation = standin_install(size=50)
    response = ClockifyClient.for_installation(installation).get(f"/v1/workspaces/{ws.workspace_id}/projects/nope")
    assert response.status == 404 and response.attempts == 1
    assert standin.request_log.count(path_contains="/projects/nope") == 1


def test_429_then_success_honours_retry_after(standin_install, standin):
    ws, installation = standin_install(size=50)
    standin.configure(rate_limit_per_second=1, retry_after=1)
    client = ClockifyClient.for_installation(installation)
    path = f"/v1/workspaces/{ws.workspace_id}/tags"
    before = _calls("429")

    first = client.get(path)
    second = client.get(path)  # our own bucket allows it; the stand-in's 1/s does not

    assert first.status == 200 and second.status == 200
    assert second.attempts == 2
    log = standin.request_log.calls(path_contains="/tags")
    assert [r.status for r in log] == [200, 429, 200]
    assert log[2].ts - log[1].ts >= 0.9  # the retry waited for Retry-After
    assert _calls("429") == before + 1


def test_5xx_is_retried_until_success(standin_install, standin, settings):
    settings.CLOCKIFY_MAX_RETRIES = 10
    ws, installation = standin_install(size=50)
    standin.configure(fault_5xx_rate=0.6, fault_seed=3)
    response = ClockifyClient.for_installation(installation).get(f"/v1/workspaces/{ws.workspace_id}/clients")
    statuses = [r.status for r in standin.request_log.calls(path_contains="/clients")]
    assert response.status == 200
    assert statuses[-1] == 200 and all(s >= 500 for s in statuses[:-1])
    assert response.attempts == len(statuses) > 1


def test_5xx_after_all_retries_is_returned_not_raised(standin_install, standin, settings):
    settings.CLOCKIFY_MAX_RETRIES = 2
    ws, installation = standin_install(size=50)
    standin.configure(fault_5xx_rate=1.0)
    response = ClockifyClient.for_installation(installation).get(f"/v1/workspaces/{ws.workspace_id}/clients")
    assert response.status >= 500 and response.attempts == 3
    assert standin.request_log.count(path_contains="/clients") == 3


def test_connection_refused_raises_clockify_error_after_retries(settings):
    settings.CLOCKIFY_MAX_RETRIES = 2
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = ClockifyClient(token="t", workspace_id="ws-refused", base_urls={"backend": f"http://127.0.0.1:{port}/api"})
    before = _calls("error")
    with pytest.raises(ClockifyError, match="after 3 attempts"):
        client.get("/v1/user")
    assert _calls("error") == before + 3


def test_timeout_is_a_transport_failure(standin_install, standin, settings):
    settings.CLOCKIFY_MAX_RETRIES = 1
    settings.CLOCKIFY_HTTP_TIMEOUT_SECONDS = 0.1
    ws, installation = standin_install(size=50)
    standin.configure(latency_ms=400)
    with pytest.raises(ClockifyError):
        ClockifyClient.for_installation(installation).get("/v1/user")
    assert standin.request_log.count(path_contains="/v1/user") == 2


@pytest.mark.parametrize("target", [
    "http://evil.example/api/v1/user",
    "http://127.0.0.1:1/api/v1/user",
    "/v1/../../admin",
    "v1/user",
    "/v1/user#frag",
    "/v1/user\r\nX-Injected: 1",
])
def test_urls_outside_the_installation_bases_are_refused_and_never_sent(standin_install, standin, target):
    ws, installation = standin_install(size=50)
    with pytest.raises(ClockifyURLRefused):
        ClockifyClient.for_installation(installation).get(target)
    assert standin.request_log.count() == 0


def test_absolute_url_under_a_base_and_other_bases_are_allowed(standin_install, standin):
    ws, installation = standin_install(size=50)
    client = ClockifyClient.for_installation(installation)
    assert client.get(f"{standin.backend_url}/v1/user").status == 200
    assert client.url_for("/v1/x", base="reports") == installation.reports_url + "/v1/x"
    userinfo = standin.backend_url.replace("http://", "http://user:pw@")
    with pytest.raises(ClockifyURLRefused):
        client.get(f"{userinfo}/v1/user")
    with pytest.raises(ClockifyURLRefused):
        client.get("/v1/user", base="nowhere")


def test_callers_cannot_replace_the_token_header(standin_install, standin):
    ws, installation = standin_install(size=50)
    client = ClockifyClient.for_installation(installation)
    response = client.get("/v1/user", headers={"X-Addon-Token": "forged", "X-Request-Id": "abc"})
    assert response.status == 200


def test_user_token_is_used_when_given(standin_install, standin):
    ws, installation = standin_install(size=50)
    foreign = ws.minter.user_token(workspaceId="another-workspace")
    response = ClockifyClient.for_installation(installation, user_token=foreign).get(
        f"/v1/workspaces/{ws.workspace_id}")
    assert response.status == 403  # the stand-in saw the user token, not the installation's


def test_tokens_never_reach_logs_or_repr(standin_install, standin, caplog, settings):
    settings.CLOCKIFY_MAX_RETRIES = 3
    ws, installation = standin_install(size=50)
    from installations.selectors import installation_token

    token = installation_token(installation=installation)
    standin.configure(fault_5xx_rate=1.0)
    client = ClockifyClient.for_installation(installation)
    with caplog.at_level(logging.DEBUG, logger="addons.clockify"):
        client.get("/v1/user")
    assert caplog.records, "retries are logged"
    for record in caplog.records:
        assert token not in record.getMessage()
        assert all(token not in str(v) for v in vars(record).values())
    assert token not in repr(client)


def test_paginate_follows_last_page_to_the_end(standin_install, standin):
    ws, installation = standin_install(size=300)
    expected = list(standin.workspace(ws.workspace_id).entities["projects"])
    pager = ClockifyClient.for_installation(installation).paginate(
        f"/v1/workspaces/{ws.workspace_id}/projects", page_size=7)
    pages = list(pager)
    assert [p.number for p in pages] == list(range(1, math.ceil(len(expected) / 7) + 1))
    assert [item["id"] for p in pages for item in p.items] == expected
    assert pages[-1].is_last and not pager.truncated
    assert pager.pages_fetched == len(pages) and pager.items_fetched == len(expected)


def test_paginate_records_truncation_at_the_cap_and_resumes_from_a_page(standin_install, standin):
    ws, installation = standin_install(size=300)
    expected = list(standin.workspace(ws.workspace_id).entities["projects"])
    client = ClockifyClient.for_installation(installation)
    path = f"/v1/workspaces/{ws.workspace_id}/projects"

    capped = client.paginate(path, page_size=5, max_pages=2)
    assert [item["id"] for p in capped for item in p.items] == expected[:10]
    assert capped.truncated

    resumed = client.paginate(path, page_size=5, start_page=3)
    assert [item["id"] for p in resumed for item in p.items] == expected[10:]
    assert not resumed.truncated


def test_paginate_unwraps_enveloped_pages(standin_install, standin):
    ws, installation = standin_install(size=300)
    expected = list(standin.workspace(ws.workspace_id).entities["expenses"])
    pager = ClockifyClient.for_installation(installation).paginate(
        f"/v1/workspaces/{ws.workspace_id}/expenses", page_size=4, items_key="expenses.expenses")
    assert [item["id"] for p in pager for item in p.items] == expected


def test_paginate_raises_on_an_error_page(standin_install, standin):
    ws, installation = standin_install(size=50)
    pager = ClockifyClient.for_installation(installation).paginate(f"/v1/workspaces/{ws.workspace_id}/nothing-here")
    with pytest.raises(ClockifyHTTPError) as excinfo:
        list(pager)
    assert excinfo.value.status == 404


def test_a_429_pushes_back_the_shared_bucket_even_without_retries(standin_install, standin):
    ws, installation = standin_install(size=50)
    standin.configure(rate_limit_per_second=1, retry_after=1)
    path = f"/v1/workspaces/{ws.workspace_id}/tags"
    caller = ClockifyClient.for_installation(installation)
    caller.max_retries = 0  # a caller that handles 429 itself (flows)
    assert caller.get(path).status == 200
    assert caller.get(path).status == 429

    other = ClockifyClient.for_installation(installation)  # another process's client, same workspace bucket
    assert other.get(path).status == 200
    log = standin.request_log.calls(path_contains="/tags")
    assert [r.status for r in log] == [200, 429, 200]
    assert log[2].ts - log[1].ts >= 0.9


def test_cookies_set_by_the_api_are_never_sent_back(settings):
    """One pooled session serves every installation of a process: a cookie Clockify sets in an
    answer to one workspace's call (a load balancer's, a bot filter's) must not ride along on
    another workspace's calls."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen_cookies: list[str | None] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen_cookies.append(self.headers.get("Cookie"))
            body = b"{}"
            self.send_response(200)
            self.send_header("Set-Cookie", "lb=node-7; Path=/")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = {"backend": f"http://127.0.0.1:{server.server_address[1]}/api"}
        first = ClockifyClient(token="token-a", workspace_id="ws-cookie-a", base_urls=base)
        second = ClockifyClient(token="token-b", workspace_id="ws-cookie-b", base_urls=base)
        assert first.get("/v1/user").status == 200 and second.get("/v1/user").status == 200
        assert first.get("/v1/user").status == 200
    finally:
        server.shutdown()
        server.server_close()
    assert seen_cookies == [None, None, None]


def test_rate_buckets_are_per_workspace_and_add_on_and_user_calls_share_their_add_ons(standin_install, settings):
    """Clockify counts 50 requests/s per add-on per workspace: the two add-ons on one workspace
    have a bucket each, and an explorer call with a user's token counts against its add-on's
    (issue 20, item 7). With 1 request/s and no patience for a slot, a second call on a bucket
    is refused before it is sent, a call on another bucket goes through."""
    settings.CLOCKIFY_WORKSPACE_RATE_LIMIT = 1
    settings.CLOCKIFY_RATE_LIMIT_TIMEOUT_SECONDS = 0.05
    studio_ws, studio = standin_install("api-studio", size=20)
    _, universal = standin_install("universal-webhook", size=None, workspace_id=studio_ws.workspace_id)
    path = f"/v1/workspaces/{studio_ws.workspace_id}/tags"

    assert ClockifyClient.for_installation(studio).get(path).status == 200
    assert ClockifyClient.for_installation(universal).get(path).status == 200  # the other add-on's bucket
    user_client = ClockifyClient.for_installation(studio, user_token=studio_ws.minter.user_token())
    with pytest.raises(ClockifyError, match="rate limit"):
        user_client.get(path)  # the user's call waits in API Studio's bucket, already spent this second


# Issue 15, item 5: one wall-clock deadline per call, enforced while reading, and a size cap.
@pytest.mark.parametrize("path", ["/drip-body", "/drip-headers"])
def test_a_dripping_server_is_cut_at_the_total_timeout(settings, path):
    import time

    from tests.drip import DripServer

    settings.CLOCKIFY_MAX_RETRIES = 0
    settings.CLOCKIFY_HTTP_TIMEOUT_SECONDS = 2.0
    with DripServer(interval=0.9) as server:
        client = ClockifyClient(token="t", workspace_id="ws-drip", base_urls={"backend": server.base + "/api"})
        started = time.monotonic()
        with pytest.raises(ClockifyError, match="Timeout"):
            client.get(path)
        elapsed = time.monotonic() - started
    assert elapsed < 2.9, elapsed


def test_a_response_over_the_size_cap_is_refused_and_not_retried(settings):
    from tests.drip import DripServer

    settings.CLOCKIFY_MAX_RETRIES = 3
    settings.CLOCKIFY_RESPONSE_MAX_BYTES = 100_000
    with DripServer() as server:
        client = ClockifyClient(token="t", workspace_id="ws-huge", base_urls={"backend": server.base + "/api"})
        with pytest.raises(ClockifyError, match="larger than 100000 bytes"):
            client.get("/huge/3000000")
        assert client.get("/v1/small").json() == {"ok": True}
        assert len(server.hits) == 2


def test_a_kept_alive_connection_is_under_the_next_calls_deadline(settings):
    import time

    from addons.clockify.client import ClockifyTimeout
    from tests.drip import DripServer

    settings.CLOCKIFY_MAX_RETRIES = 0
    settings.CLOCKIFY_HTTP_TIMEOUT_SECONDS = 1.5
    with DripServer(interval=0.9) as server:
        client = ClockifyClient(token="t", workspace_id="ws-keepalive", base_urls={"backend": server.base + "/api"})
        assert client.get("/v1/small").json() == {"ok": True}  # opens the pooled connection
        started = time.monotonic()
        with pytest.raises(ClockifyTimeout):
            client.get("/drip-body")  # the same connection, a new call: its own deadline
        elapsed = time.monotonic() - started
        assert client.get("/v1/small").json() == {"ok": True}  # the pool recovers
    assert elapsed < 2.4, elapsed
