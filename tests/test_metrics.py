import pytest

pytestmark = pytest.mark.django_db


def test_metrics_from_loopback_without_token(client):
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    assert b"platform_token_rejections_total" in response.content


def test_metrics_refused_from_outside_the_allow_list(client):
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 403


def test_metrics_bearer_token(client, settings):
    settings.METRICS_BEARER_TOKEN = "scrape-secret-123"
    ok = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer scrape-secret-123")
    bad = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer wrong")
    assert ok.status_code == 200 and bad.status_code == 403


def test_token_rejections_are_counted_by_reason(client, make_workspace):
    ws = make_workspace()
    ws.lifecycle(client, "INSTALLED", token="garbage")
    body = client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
    assert 'platform_token_rejections_total{reason="malformed_token"}' in body


# Issue 15, item 8: behind a reverse proxy every client arrives from the proxy's (loopback) address.
def test_behind_a_proxy_the_loopback_allow_list_no_longer_applies(client, settings):
    settings.TRUST_X_FORWARDED_PROTO = True
    settings.METRICS_BEARER_TOKEN = ""
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403
    settings.METRICS_BEARER_TOKEN = "scrape-secret-123"
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    ok = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_AUTHORIZATION="Bearer scrape-secret-123")
    assert ok.status_code == 200 and b"platform_token_rejections_total" in ok.content
