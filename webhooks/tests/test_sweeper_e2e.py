"""Never lost: events accepted while the broker is down are processed, once each, when it is back.

Real processes: gunicorn (the web side, its broker pointing at a port where nothing listens yet),
then a private redis-server on that port and a Celery worker with beat running the sweeper.
"""

from __future__ import annotations

import json
import shutil
import time

import pytest
import redis
import requests
from django.db import connection

from addons.manifest import webhook_path
from webhooks.models import WebhookEvent
from webhooks.tests import processes

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server not installed"),
]


def _post(port: int, ws, event: str, n: int) -> requests.Response:
    body = json.dumps({"id": f"e2e-{n}", "workspaceId": ws.workspace_id, "n": n})
    return requests.post(
        f"http://127.0.0.1:{port}/{ws.variant.slug}{webhook_path(event)}", data=body, timeout=30,
        headers={"clockify-signature": ws.minter.webhook_token(), "clockify-webhook-event-type": event,
                 "content-type": "application/json"},
    )


def _wait_all_settled(ids: list[int], deadline_s: float = 90.0) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if not WebhookEvent.objects.filter(pk__in=ids, status="received").exists():
            return
        time.sleep(0.25)


def test_events_accepted_while_broker_down_are_processed_exactly_once(installed, clockify_keys, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("child processes need a shared PostgreSQL test database")
    ws = installed("universal-webhook")
    broker_port, web_port = processes.free_port(), processes.free_port()
    broker_url = f"redis://127.0.0.1:{broker_port}/0"
    common = {"CLOCKIFY_PUBLIC_KEY": clockify_keys.public_pem, "REDIS_URL": "", "CELERY_BROKER_URL": broker_url,
              "WEBHOOK_INGEST_RATE_PER_SECOND": "0"}
    web = worker = broker = None
    try:
        web = processes.start_gunicorn(web_port, processes.base_env(**common), tmp_path)
        down = [_post(web_port, ws, "NEW_TIME_ENTRY", n) for n in range(6)]
        assert [r.status_code for r in down] == [200] * 6, [r.text for r in down]
        ids = list(WebhookEvent.objects.order_by("pk").values_list("pk", flat=True))
        assert len(ids) == 6
        assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"received"}

        # Only start the broker once the web side has given up sending (it logs enqueue_failed).
        end = time.monotonic() + 60
        while "enqueue_failed" not in (tmp_path / "gunicorn.log").read_text() and time.monotonic() < end:
            time.sleep(0.1)
        assert "enqueue_failed" in (tmp_path / "gunicorn.log").read_text()
        broker = processes.start_redis(broker_port, tmp_path)
        counter = redis.Redis(port=broker_port, db=1)
        worker = processes.start_worker(
            "webhooks.tests.worker_app",
            processes.base_env(**{**common, "REDIS_URL": broker_url,
                                  "E2E_COUNTER_REDIS_URL": f"redis://127.0.0.1:{broker_port}/1",
                                  "WEBHOOK_SWEEP_AFTER_SECONDS": "1", "WEBHOOK_SWEEP_INTERVAL_SECONDS": "0.5"}),
            tmp_path, "-B", "-s", str(tmp_path / "beat-schedule"),
        )
        # With the broker back, a new event goes straight through the queue as well.
        assert _post(web_port, ws, "NEW_TIME_ENTRY", 99).status_code == 200
        ids = list(WebhookEvent.objects.order_by("pk").values_list("pk", flat=True))
        _wait_all_settled(ids)
        events = list(WebhookEvent.objects.filter(pk__in=ids).order_by("pk"))
        log = (tmp_path / "worker.log").read_text()[-3000:]
        assert [e.status for e in events] == ["processed"] * 7, log
        assert [e.attempts for e in events] == [1] * 7
        assert [int(counter.get(f"e2e:processed:{e.pk}") or 0) for e in events] == [1] * 7
        assert sum(1 for e in events if e.swept_at is not None) >= 6  # the sweeper found the stranded ones
    finally:
        processes.stop(worker, web, broker)
