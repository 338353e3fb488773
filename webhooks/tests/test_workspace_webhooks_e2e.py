"""End to end: a Universal Webhook installation turns the API-only events on, a real Celery worker
registers the workspace webhooks in the stand-in, the stand-in sends each of the 9 events the way a
workspace webhook does, the platform logs and processes them, and DELETED removes the webhooks."""

from __future__ import annotations

import os

import pytest
from django.conf import settings as django_settings

from flows.tests import worker
from flows.tests.test_worker_e2e import wait_for
from installations.models import Installation
from webhooks.models import WebhookEvent

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("REDIS_URL") or "postgres" not in os.environ.get("DATABASE_URL", ""),
                       reason="needs PostgreSQL and Redis (a worker subprocess shares them)"),
]


def test_api_only_events_arrive_from_workspace_webhooks_and_go_away_on_deleted(
        live_server, standin, clockify_side, clockify_keys, settings, tmp_path):
    settings.PUBLIC_BASE_URL = live_server.url
    side = clockify_side("universal-webhook", platform=live_server, standin=standin)
    assert side.install().status_code == 200
    events = Installation.objects.get(workspace_id=side.workspace_id).variant_spec.workspace_webhook_events
    assert len(events) == 9

    def ours():
        return {h["webhookEvent"]: h for h in standin.workspace(side.workspace_id).webhooks.values()
                if h["_type"] == "USER_CREATED"}

    log = tmp_path / "worker.log"
    process = worker.start_worker(log, queues="default,webhooks", pool="solo", PUBLIC_BASE_URL=live_server.url,
                                  REDIS_URL=django_settings.REDIS_URL, LOG_LEVEL="WARNING")
    try:
        assert side.update_settings({"enable_workspace_webhooks": True}).status_code == 200
        hooks = wait_for(lambda: len(ours()) == 9 and ours(), 60, "the worker to register 9 webhooks")
        for event in events:
            assert standin.deliver_workspace_webhooks(side.workspace_id, event) == [(hooks[event]["id"], 200)]
        logged = WebhookEvent.objects.filter(installation__workspace_id=side.workspace_id)
        wait_for(lambda: logged.filter(status="processed").count() == 9, 60, "the worker to process the 9 events")
        assert sorted(logged.values_list("event_type", flat=True)) == sorted(events)
    except AssertionError:
        print(log.read_text()[-3000:] if log.exists() else "no worker log")
        raise
    finally:
        worker.stop(process)

    assert side.delete().status_code == 200
    assert ours() == {}
