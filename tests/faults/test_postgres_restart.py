"""PostgreSQL goes down under load and comes back: /readyz says 503 meanwhile, and web and worker
recover with no manual step (issue 9, fault 5c; docs/deploy.md "What happens when a dependency is down").

Real processes on loopback against a PRIVATE PostgreSQL cluster (initdb in a temp folder, its own
port) and a private redis-server: gunicorn (2 workers) and a Celery worker (2 processes, embedded
beat with the webhooks sweeper). The machine's shared PostgreSQL is never touched.
"""

from __future__ import annotations

import shutil
import time
from collections import Counter

import psycopg
import pytest
import requests

from clockify_standin.clockify_side import ClockifySide
from clockify_standin.testing import NO_BACKEND_URL, hex_id
from tests.faults import procs
from tests.faults.load import WebhookLoad

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(300),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server not installed"),
    pytest.mark.skipif(not procs.can_run_private_postgres(), reason="cannot start a private PostgreSQL here"),
]


def _get(url: str) -> requests.Response | None:
    try:
        return requests.get(url, timeout=10)
    except requests.RequestException:
        return None


def _status(url: str) -> int:
    r = _get(url)
    return r.status_code if r is not None else 0


def test_postgres_restart_readyz_503_meanwhile_then_everything_recovers(clockify_keys, tmp_path):
    pg = procs.PrivatePostgres()
    redis = web = worker = load = None
    try:
        pg.init().start()
        db_url = pg.create_database("clk_fault")
        redis = procs.PrivateRedis(tmp_path).start()
        counter = tmp_path / "processed.log"
        web_port = procs.free_port()
        base_url = f"http://127.0.0.1:{web_port}"
        env = procs.child_env(
            DATABASE_URL=db_url, REDIS_URL=redis.url(0), CLOCKIFY_PUBLIC_KEY=clockify_keys.public_pem,
            PUBLIC_BASE_URL=base_url, ALLOWED_HOSTS="127.0.0.1,localhost", FAULT_COUNTER_FILE=str(counter),
            WEBHOOK_SWEEP_AFTER_SECONDS="2", WEBHOOK_SWEEP_INTERVAL_SECONDS="1",
            ADDON_DEFAULT_ENABLE_BOOTSTRAP="false",  # no Clockify here; bootstrap is not the subject
        )
        procs.migrate(env, tmp_path / "migrate.log")
        web = procs.start_gunicorn(web_port, env, tmp_path / "web.log", workers=2)
        worker = procs.Supervised(lambda: procs.start_worker(
            env, tmp_path / "worker.log", app="tests.faults.worker_app", queues="webhooks", concurrency=2,
            beat_schedule=tmp_path / "beat-schedule"))
        side = ClockifySide(base_url, "universal-webhook", private_pem=clockify_keys.private_pem,
                            backend_url=NO_BACKEND_URL, workspace_id=hex_id(), addon_id=hex_id())
        assert side.install().status_code == 200
        assert _status(f"{base_url}/readyz") == 200
        token = side.webhook_tokens["NEW_TIME_ENTRY"]
        load = WebhookLoad(base_url, "universal-webhook", token, side.workspace_id).start()
        procs.wait_for(lambda: load.accepted() >= 30, 60, "30 webhooks accepted before the restart")

        pg.stop()
        # (a Response is falsy for 4xx/5xx, hence the JSON body as the value waited for)
        down = procs.wait_for(lambda: (r := _get(f"{base_url}/readyz")) is not None and r.status_code == 503
                              and r.json(), 30, "/readyz to answer 503 while PostgreSQL is down")
        assert down["checks"]["database"].startswith("error")
        assert down["checks"]["broker"] == "ok"
        outage_statuses = procs.wait_for(
            lambda: (c := Counter(s for s, _ in load.results[-20:])) and set(c) - {200} and c, 30,
            "webhooks to be refused while PostgreSQL is down")
        time.sleep(2)  # Clockify keeps sending meanwhile
        lifecycle_down = side.set_status("ACTIVE").status_code

        pg.start()
        procs.wait_for(lambda: _status(f"{base_url}/readyz") == 200, 60, "/readyz to answer 200 again")
        after = load.accepted()
        procs.wait_for(lambda: load.accepted() >= after + 30, 60, "30 webhooks accepted after the restart")
        load.stop()
        assert side.set_status("ACTIVE").status_code == 200  # lifecycle works again, nothing restarted

        ids = load.accepted_ids()
        sql = "SELECT payload->>'id', status, attempts, id FROM webhooks_webhookevent"
        with psycopg.connect(db_url.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
            def settled():
                rows = conn.execute(sql).fetchall()
                return len(rows) >= len(ids) and all(r[1] != "received" for r in rows) and rows

            try:
                rows = procs.wait_for(settled, 150, "every event to settle", interval=0.5)
            except AssertionError as exc:
                left = Counter(r[1] for r in conn.execute(sql).fetchall())
                raise AssertionError(f"{exc}: {left}, {len(ids)} accepted, worker restarts {worker.restarts}\n"
                                     f"worker log:\n"
                                     f"{procs.tail(tmp_path / 'worker.log')}\nweb log:\n"
                                     f"{procs.tail(tmp_path / 'web.log')}") from None
    finally:
        if load is not None:
            load.stop()
        if worker is not None:
            worker.stop()
        procs.stop(web)
        if redis is not None:
            redis.stop()
        pg.destroy()

    statuses = load.statuses()
    refused = {s for s in statuses if s != 200}
    assert refused and refused <= {500, 502, 503, 0}, f"during the outage: 5xx only (Clockify retries): {statuses}"
    assert set(outage_statuses) - {200} <= {500, 502, 503, 0}
    assert lifecycle_down >= 500, "a lifecycle call during the outage fails with 5xx, so Clockify retries it"
    stored = Counter(r[0] for r in rows)
    assert ids <= set(stored), "every webhook answered 200 is stored"
    assert max(stored.values()) == 1
    assert {r[1] for r in rows} == {"processed"}, Counter(r[1] for r in rows)
    processed = Counter(int(line) for line in counter.read_text().split())
    assert {r[3] for r in rows} <= set(processed), "the worker processed events stored after the restart too"
