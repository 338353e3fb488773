"""A hostile flow never stalls a process (issue 15, "Done when"): real gunicorn (one sync worker,
so a stalled request would hold up the next) and a real Celery worker (solo pool, so a stalled
task would keep it from answering a ping) each answer another request within 1 s while a hostile
flow is saved, test-run, or evaluated on an event.
"""

from __future__ import annotations

import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import pytest
import requests
from celery import Celery
from django.db import connection

from flows.models import Flow, FlowRun
from webhooks.models import WebhookEvent
from webhooks.tests import processes

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server not installed"),
    pytest.mark.timeout(300),
]

SLOW_TEXT = "a" * 5000 + "b"  # (a|aa)+$ backtracks for ages on this with Python's re
EXTENSION_RULES = {"mode": "all", "rules": [{"path": "$.description.`sub(/(a|aa)+$/, x)`", "op": "exists"}]}
REGEX_RULES = {"mode": "any", "rules": [{"path": "$.description", "op": "matches", "value": "(a|aa)+$"}] * 50}


def _flow(name: str, conditions: dict) -> dict:
    return {"name": name, "trigger": {"events": ["NEW_TIME_ENTRY"]}, "conditions": conditions,
            "actions": [{"type": "clockify", "operation": "getTags"}]}


def _answer_time_while(hostile: Callable[[], Any], probe: Callable[[], Any]) -> tuple[Any, float]:
    """Start ``hostile`` in a thread, then time ``probe`` while it is in flight."""
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(hostile)
        time.sleep(0.1)
        started = time.monotonic()
        probe()
        took = time.monotonic() - started
        return pending.result(timeout=120), took


def test_web_and_worker_answer_within_1_s_while_a_hostile_flow_runs(clockify_side, clockify_keys, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("child processes need a shared PostgreSQL test database")

    broker_port, web_port = processes.free_port(), processes.free_port()
    broker_url = f"redis://127.0.0.1:{broker_port}/0"
    env = processes.base_env(CLOCKIFY_PUBLIC_KEY=clockify_keys.public_pem, REDIS_URL=broker_url,
                             CELERY_BROKER_URL=broker_url, WEBHOOK_INGEST_RATE_PER_SECOND="0",
                             GUNICORN_TIMEOUT="120", PUBLIC_BASE_URL=f"http://127.0.0.1:{web_port}")
    broker = web = worker = None
    try:
        broker = processes.start_redis(broker_port, tmp_path)
        web = processes.start_gunicorn(web_port, env, tmp_path, workers=1)
        base = f"http://127.0.0.1:{web_port}"
        side = clockify_side("universal-webhook", platform=base)
        assert side.install().status_code == 200
        api, auth = f"{base}/universal-webhook/api/v1", {"Authorization": f"Bearer {side.user_token('OWNER')}"}

        def post(path: str, body: dict) -> requests.Response:
            return requests.post(api + path, json=body, headers=auth, timeout=120)

        def healthz() -> None:
            assert requests.get(f"{base}/healthz", timeout=120).status_code == 200

        # The web process: saving and test-running hostile flows.
        saved, took = _answer_time_while(lambda: post("/flows", _flow("ext", EXTENSION_RULES)), healthz)
        assert saved.status_code == 400 and took < 1.0, (saved.status_code, took)
        draft, took = _answer_time_while(lambda: post("/flows/test-run", {
            "flow": _flow("ext", EXTENSION_RULES), "event": {"description": SLOW_TEXT}}), healthz)
        assert draft.status_code == 400 and took < 1.0, (draft.status_code, took)
        regex_flow = post("/flows", _flow("regex", REGEX_RULES))
        assert regex_flow.status_code == 201, regex_flow.text
        tested, took = _answer_time_while(
            lambda: post(f"/flows/{regex_flow.json()['id']}/test-run", {"event": {"description": SLOW_TEXT}}), healthz)
        assert tested.status_code == 200 and took < 1.0, (tested.status_code, took)

        # The worker: an event meets the regex flow and a flow stored before extensions were refused.
        legacy = post("/flows", _flow("legacy", {"mode": "all", "rules": []})).json()
        Flow.objects.filter(public_id=legacy["id"]).update(conditions=EXTENSION_RULES)
        worker = processes.start_worker("config", {**env, "CELERY_WORKER_PREFETCH_MULTIPLIER": "1"}, tmp_path,
                                        "-Q", "webhooks,flows", "--without-gossip", "--without-mingle")
        # A bare Celery app on the private broker: the project's app publishes control messages
        # through its own producer pool, bound to the test settings' broker.
        probe = Celery("probe", broker=broker_url, set_as_current=False)
        deadline = time.monotonic() + 60
        while not probe.control.ping(timeout=0.5) and time.monotonic() < deadline:
            pass  # the worker is up when it answers
        assert side.send_webhook("NEW_TIME_ENTRY", {**side.webhook_body("NEW_TIME_ENTRY"),
                                                    "description": SLOW_TEXT}).status_code == 200
        time.sleep(0.3)  # the event's task is under way (the solo pool answers between tasks only)
        replies = probe.control.ping(timeout=1.0)  # collects the replies that arrive within 1 s
        assert replies, (tmp_path / "worker.log").read_text()[-2000:]

        end = time.monotonic() + 60
        while WebhookEvent.objects.filter(status="received").exists() and time.monotonic() < end:
            time.sleep(0.2)
        runs = {run.flow.name: run for run in FlowRun.objects.select_related("flow")}
        assert set(runs) == {"regex", "legacy"} and {r.status for r in runs.values()} == {"skipped"}
        regex_errors = [rule.get("error", "") for rule in runs["regex"].conditions_result["rules"]]
        assert "longer than" in regex_errors[0] and all(regex_errors), regex_errors
        # Refused as not plain JSONPath, or not evaluated at all once the event's budget was spent.
        [legacy_rule] = runs["legacy"].conditions_result["rules"]
        assert "plain JSONPath" in legacy_rule["error"] or "time budget" in legacy_rule["error"], legacy_rule
    finally:
        processes.stop(worker, web, broker)
