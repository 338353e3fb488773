"""Redis stops in the middle of a webhook load and comes back empty: no accepted event is lost,
none is processed twice (issue 9, fault 5a; docs/deploy.md "What happens when a dependency is down").

Real processes on loopback: gunicorn (2 workers) and a Celery worker (prefork, 2 processes, embedded
beat running the webhooks sweeper) share a PRIVATE redis-server (broker, cache and rate limiter)
and the test database. The worker runs under a restart-on-exit supervisor, as in production: kombu
can end it with "Unrecoverable error" when the broker vanishes mid-read (seen in most runs under
CPU load). Threads post signed webhooks the whole time. The private Redis is stopped (its queues
and unacknowledged messages die with it: no persistence) and started again empty on the same port.
The machine's shared Redis is never touched.
"""

from __future__ import annotations

import shutil
from collections import Counter

import pytest
import requests
from django.db import connection

from tests.faults import procs
from tests.faults.load import WebhookLoad, child_database_url
from webhooks.models import WebhookEvent

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(240),
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server not installed"),
]


def _readyz(base_url: str) -> int:
    try:
        return requests.get(f"{base_url}/readyz", timeout=10).status_code
    except requests.RequestException:
        return 0


def test_redis_stopped_during_webhook_load_every_accepted_event_processed_exactly_once(
        installed, clockify_keys, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("the child processes share the test database: needs PostgreSQL")
    ws = installed("universal-webhook")
    redis = procs.PrivateRedis(tmp_path).start()
    counter = tmp_path / "processed.log"
    web_port = procs.free_port()
    base_url = f"http://127.0.0.1:{web_port}"
    env = procs.child_env(
        DATABASE_URL=child_database_url(), REDIS_URL=redis.url(0), CLOCKIFY_PUBLIC_KEY=clockify_keys.public_pem,
        FAULT_COUNTER_FILE=str(counter),
        # A stranded event is swept 2 s after it was stored (production: 60 s), checked every second.
        WEBHOOK_SWEEP_AFTER_SECONDS="2", WEBHOOK_SWEEP_INTERVAL_SECONDS="1",
    )
    web = worker = load = None
    try:
        web = procs.start_gunicorn(web_port, env, tmp_path / "web.log", workers=2)
        worker = procs.Supervised(lambda: procs.start_worker(
            env, tmp_path / "worker.log", app="tests.faults.worker_app", queues="webhooks", concurrency=2,
            beat_schedule=tmp_path / "beat-schedule"))
        assert _readyz(base_url) == 200
        load = WebhookLoad(base_url, ws.variant.slug, ws.minter.webhook_token(), ws.workspace_id).start()

        procs.wait_for(lambda: load.accepted() >= 40, 60, "40 webhooks accepted before the outage")
        procs.wait_for(lambda: counter.exists() and counter.stat().st_size > 0, 60,
                       f"the worker to process events; worker log:\n{procs.tail(tmp_path / 'worker.log')}")
        redis.stop()
        during_outage = load.accepted()
        # While Redis is down: readiness fails, ingestion goes on (stored, enqueue fails quietly).
        assert procs.wait_for(lambda: _readyz(base_url) == 503, 30, "/readyz to answer 503 while Redis is down")
        procs.wait_for(lambda: load.accepted() >= during_outage + 40, 60, "40 webhooks accepted during the outage")
        accepted_in_outage = load.accepted() - during_outage
        # Lifecycle calls need no Redis either (a settings change is stored; its side effects are swept).
        lifecycle_in_outage = requests.post(
            f"{base_url}/{ws.variant.slug}/lifecycle/status-changed", timeout=30,
            json={"addonId": ws.addon_id, "workspaceId": ws.workspace_id, "status": "ACTIVE"},
            headers={"X-Addon-Lifecycle-Token": ws.minter.lifecycle_token()}).status_code
        api_in_outage = requests.get(f"{base_url}/{ws.variant.slug}/api/v1/flows", timeout=30,
                                     headers={"Authorization": f"Bearer {ws.minter.user_token()}"}).status_code

        redis = procs.PrivateRedis(tmp_path, port=redis.port).start()  # back, empty, same address
        after_restart = load.accepted()
        procs.wait_for(lambda: load.accepted() >= after_restart + 40, 60, "40 webhooks accepted after the restart")
        load.stop()
        procs.wait_for(lambda: _readyz(base_url) == 200, 30, "/readyz to answer 200 again")

        ids = load.accepted_ids()
        try:
            procs.wait_for(lambda: not WebhookEvent.objects.filter(status="received").exists()
                           and WebhookEvent.objects.count() >= len(ids), 150, "every event to settle", interval=0.5)
        except AssertionError as exc:
            left = Counter(WebhookEvent.objects.values_list("status", flat=True))
            raise AssertionError(f"{exc}: {left}, {len(ids)} accepted, worker restarts {worker.restarts}\n"
                                 f"worker log:\n{procs.tail(tmp_path / 'worker.log')}\n"
                                 f"web log:\n{procs.tail(tmp_path / 'web.log')}") from None
    finally:
        if load is not None:
            load.stop()
        if worker is not None:
            worker.stop()
        procs.stop(web)
        redis.stop()

    statuses = load.statuses()
    assert set(statuses) == {200}, f"every request answered 200, outage or not: {statuses}"
    assert accepted_in_outage >= 40
    assert lifecycle_in_outage == 200
    assert api_in_outage == 200, "the pages' JSON API reads from PostgreSQL only"
    events = list(WebhookEvent.objects.all())
    stored_ids = Counter(e.payload["id"] for e in events)
    assert set(stored_ids) == ids, "every accepted event is stored, nothing else"
    assert max(stored_ids.values()) == 1
    assert Counter(e.status for e in events) == {"processed": len(ids)}
    assert {e.attempts for e in events} == {1}
    processed = Counter(int(line) for line in counter.read_text().split())
    assert set(processed) == {e.pk for e in events}, "every event's processors ran"
    assert set(processed.values()) == {1}, f"processed more than once: {[k for k, v in processed.items() if v > 1]}"
    assert any(e.swept_at is not None for e in events), "the sweeper picked up the stranded events"
