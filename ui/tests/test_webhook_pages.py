"""Webhook log, event detail and replay, driven over HTTP with webhooks sent like Clockify does."""

from __future__ import annotations

import html
import json
import re

import pytest
from django.test import Client

from bootstrap.services import cached_entities_upsert
from installations.models import Installation
from webhooks.models import WebhookEvent


@pytest.fixture
def side(clockify_side, client, db):
    s = clockify_side("universal-webhook", platform=client)
    assert s.install().status_code == 200
    return s


def _get(side, path, role="OWNER", **params):
    params["auth_token"] = side.user_token(role)
    return Client().get(f"/{side.variant_slug}/ui/{path}", params)


def _xhr(side, method, path, role="OWNER", body=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {side.user_token(role)}"}
    url = f"/{side.variant_slug}/ui/{path}"
    if method == "GET":
        return Client().get(url, **headers)
    return Client().post(url, data=json.dumps(body or {}), content_type="application/json", **headers)


def _row_types(page: str) -> list[str]:
    return re.findall(r'<tr data-id="\d+"[^>]*>\s*<td><a[^>]*>([^<]*)</a>', page)


def _send(side, event, **fields):
    body = side.webhook_body(event)
    body.update(fields)
    assert side.send_webhook(event, body).status_code == 200
    return body


def test_log_lists_filters_and_pages_events(side):
    _send(side, "NEW_PROJECT")
    _send(side, "NEW_TAG")
    assert _row_types(_get(side, "webhooks").content.decode()) == ["NEW_TAG", "NEW_PROJECT"]
    assert _row_types(_get(side, "webhooks", event_type="NEW_TAG").content.decode()) == ["NEW_TAG"]
    assert _get(side, "webhooks", status="failed").content.decode().count('<tr data-id="') == 0
    assert _get(side, "webhooks", **{"from": "2999-01-01"}).content.decode().count('<tr data-id="') == 0
    assert _get(side, "webhooks", source="custom").content.decode().count('<tr data-id="') == 0
    # Junk filters are ignored or match nothing; they never error.
    assert _get(side, "webhooks", **{"from": "not-a-date", "page": "x"}).status_code == 200


def test_log_paginates(side):
    for _ in range(27):
        _send(side, "NEW_TAG")
    first = _get(side, "webhooks").content.decode()
    assert first.count('<tr data-id="') == 25 and "Page 1 of 2" in first and 'data-live="1"' in first
    second = _get(side, "webhooks", page="2").content.decode()
    assert second.count('<tr data-id="') == 2 and 'data-live="0"' in second


def test_rows_xhr_refreshes_the_first_page_and_marks_new_events(side):
    _send(side, "NEW_TAG")
    latest = WebhookEvent.objects.latest("pk").pk
    unchanged = _xhr(side, "GET", f"webhooks/rows?after={latest}").content.decode()
    assert re.findall(r'<tr data-id="(\d+)"', unchanged) == [str(latest)] and 'class="new"' not in unchanged
    _send(side, "NEW_CLIENT")
    newest = WebhookEvent.objects.latest("pk").pk
    response = _xhr(side, "GET", f"webhooks/rows?after={latest}")
    assert response.status_code == 200
    page = response.content.decode()
    assert re.findall(r'<tr data-id="(\d+)"', page) == [str(newest), str(latest)]
    assert re.findall(r'<tr data-id="(\d+)" class="new"', page) == [str(newest)]
    assert response["X-Latest-Id"] == str(newest)
    # The page's filters apply.
    filtered = _xhr(side, "GET", f"webhooks/rows?after={latest}&event_type=NEW_TAG").content.decode()
    assert re.findall(r'<tr data-id="(\d+)"', filtered) == [str(latest)]
    assert _xhr(side, "GET", "webhooks/rows?after=abc").status_code == 400


def test_detail_shows_pretty_json_and_cached_entity_names_to_admins(side):
    body = _send(side, "NEW_TIME_ENTRY")
    event = WebhookEvent.objects.latest("pk")
    installation = Installation.objects.get(workspace_id=side.workspace_id, variant=side.variant_slug)
    cached_entities_upsert(installation=installation, entity_type="projects",
                           items=[{"id": event.project_id, "name": "Apollo <Moon>"}])
    page = _get(side, f"webhooks/{event.pk}").content.decode()
    assert "Apollo &lt;Moon&gt;" in page  # name from the cache, escaped
    # The time entry is not cached: its description from the event stands in, marked as such.
    assert f"<strong>{html.escape(body['description'])}</strong> <span class=\"muted small\"" in page
    assert "from the event" in page
    assert html.escape(f'"id": {json.dumps(body["id"])}') in page  # pretty-printed (and escaped) payload
    for token in side.webhook_tokens.values():
        assert token not in page
    assert 'id="replay"' in page


def test_detail_is_for_admins_and_scoped_to_the_installation(side, clockify_side, client):
    _send(side, "NEW_TAG")
    event = WebhookEvent.objects.latest("pk")
    refused = _get(side, f"webhooks/{event.pk}", role="USER")
    assert refused.status_code == 403 and event.raw_body not in refused.content.decode()
    other = clockify_side("universal-webhook", platform=client)
    assert other.install().status_code == 200
    assert _get(other, f"webhooks/{event.pk}").status_code == 404


def test_malicious_payload_is_escaped(side):
    _send(side, "NEW_TIME_ENTRY", description="<script>alert(1)</script>")
    event = WebhookEvent.objects.latest("pk")
    page = _get(side, f"webhooks/{event.pk}").content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_replay_is_admin_only_and_stores_a_replay(side, clockify_side, client):
    _send(side, "NEW_TAG")
    event = WebhookEvent.objects.latest("pk")
    refused = _xhr(side, "POST", f"webhooks/{event.pk}/replay", role="USER")
    assert refused.status_code == 403 and WebhookEvent.objects.count() == 1
    other = clockify_side("universal-webhook", platform=client)
    assert other.install().status_code == 200
    assert _xhr(other, "POST", f"webhooks/{event.pk}/replay").status_code == 404
    assert _xhr(side, "GET", f"webhooks/{event.pk}/replay").status_code == 405
    assert WebhookEvent.objects.count() == 1

    ok = _xhr(side, "POST", f"webhooks/{event.pk}/replay")
    assert ok.status_code == 202
    replay = WebhookEvent.objects.get(pk=ok.json()["id"])
    assert replay.replay_of_id == event.pk and replay.payload == event.payload


def test_replay_refused_while_inactive(side):
    _send(side, "NEW_TAG")
    event = WebhookEvent.objects.latest("pk")
    assert side.set_status("INACTIVE").status_code == 200
    response = _xhr(side, "POST", f"webhooks/{event.pk}/replay")
    assert response.status_code == 409
    assert WebhookEvent.objects.filter(replay_of=event).count() == 0
    assert "inactive" in _get(side, "dashboard").content.decode()


def test_dashboard_charts_recent_events_and_entity_counts(side):
    _send(side, "NEW_TAG")
    _send(side, "NEW_TAG")
    _send(side, "NEW_PROJECT")
    installation = Installation.objects.get(workspace_id=side.workspace_id, variant=side.variant_slug)
    cached_entities_upsert(installation=installation, entity_type="tags", items=[{"id": "t1"}, {"id": "t2"}])
    page = _get(side, "dashboard").content.decode()
    assert page.count("<rect ") == 2  # one stacked bar today: NEW_TAG and NEW_PROJECT
    assert "3 events" in page
    assert re.search(r'<div class="stat-value">2</div><div class="stat-label">tags</div>', page)
    status = _xhr(side, "GET", "dashboard/bootstrap").json()
    assert status["status"] in ("never", "pending", "running", "done", "failed")
    assert ["tags", 2] in status["counts"]


def test_bootstrap_rerun_is_admin_only(side):
    response = _xhr(side, "POST", "dashboard/bootstrap/run", role="PROJECT_MANAGER")
    assert response.status_code == 403
    assert _xhr(side, "GET", "dashboard/bootstrap/run").status_code in (401, 405)
