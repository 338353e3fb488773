"""A real Celery worker is killed (kill -9) mid-run; the redelivered task finishes the run without
sending a step that already succeeded."""

import os
import time
from types import SimpleNamespace

import pytest

from flows import services
from flows.models import FlowRun
from flows.tests.helpers import AUTO_TAG_FLOW, existing_entry
from flows.tests import worker
from installations.models import Installation

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("REDIS_URL") or "postgres" not in os.environ.get("DATABASE_URL", ""),
                       reason="needs PostgreSQL and Redis (a worker subprocess shares them)"),
]


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


# prefork is Celery's default; threads is how docs/deploy.md runs the I/O-bound flows queue.
POOLS = pytest.mark.parametrize("pool", ["prefork", "threads"])


@POOLS
def test_kill_9_mid_run_then_redelivery_does_not_duplicate_steps(uw, receiver, allow_private, tmp_path, pool):
    doc = {
        "name": "three steps",
        "trigger": {"events": ["NEW_TIME_ENTRY"]},
        "actions": [
            {"type": "http", "method": "POST", "url": receiver.url("/first"), "body": {"id": "{{event.id}}"}},
            # GET is idempotent: caught in flight, it may be sent again.
            {"type": "http", "method": "GET", "url": receiver.url("/hang/1")},
            {"type": "http", "method": "POST", "url": receiver.url("/third"),
             "body": {"first": "{{steps[0].response.count}}"}},
        ],
    }
    assert uw.post("/flows", doc).status_code == 201
    env = {
        "FLOW_HTTP_ALLOW_PRIVATE_NETWORKS": "true",  # the loopback receiver; an escape hatch only DEBUG allows
        "DEBUG": "true",
        "FLOW_RUN_LEASE_SECONDS": "3",
        "FLOW_STEP_TIMEOUT_SECONDS": "60",
        "CELERY_VISIBILITY_TIMEOUT": "2",
        "LOG_LEVEL": "WARNING",
    }
    log = tmp_path / "worker.log"
    first = worker.start_worker(log, pool=pool, **env)
    second = None
    try:
        installation = Installation.objects.get(workspace_id=uw.side.workspace_id, variant="universal-webhook")
        event = SimpleNamespace(pk=424242, installation=installation, event_type="NEW_TIME_ENTRY",
                                payload={"id": "te-1"}, source="clockify", custom_source=None)
        [run] = services.flow_runs_for_event(event=event)  # enqueued on the flows queue (Redis)

        wait_for(lambda: receiver.count("/hang") == 1, 60, f"step 1 in flight; worker log:\n{_tail(log)}")
        worker.kill_hard(first)
        assert receiver.count("/first") == 1 and receiver.count("/third") == 0
        run.refresh_from_db()
        assert run.status == "running"
        assert [s.status for s in run.steps.order_by("index")] == ["succeeded", "sending"]

        time.sleep(2.5)  # past the broker's visibility timeout: the unacknowledged task is redelivered
        second = worker.start_worker(log, pool=pool, **env)
        wait_for(lambda: FlowRun.objects.get(pk=run.pk).is_terminal, 60, f"the run to finish:\n{_tail(log)}")
    finally:
        worker.stop(first)
        if second is not None:
            worker.stop(second)

    run.refresh_from_db()
    steps = list(run.steps.order_by("index"))
    assert run.status == "succeeded", (run.error, [s.error for s in steps])
    assert receiver.count("/first") == 1  # never sent twice
    assert receiver.count("/hang") == 2 and steps[1].attempts == 2  # in flight when killed: sent again
    assert receiver.count("/third") == 1 and steps[2].request["body"] == {"first": 1}
    assert [s.attempts for s in steps] == [1, 2, 1]


@POOLS
def test_auto_tagging_through_the_webhook_endpoint_and_real_workers(studio, standin, tmp_path, pool):
    """Clockify sends NEW_TIME_ENTRY (description contains "bug") -> the webhooks worker stores and
    processes it -> the flows worker creates a tag and puts it on the entry in the stand-in."""
    ws = studio.side.workspace_id
    assert studio.post("/flows", AUTO_TAG_FLOW).status_code == 201
    entry = existing_entry(standin, ws, "Squash the login bug")
    other = existing_entry(standin, ws, "Team meeting")
    other["id"] = next(e for e in standin.workspace(ws).entities["time-entries"] if e != entry["id"])
    log = tmp_path / "worker.log"
    proc = worker.start_worker(log, queues="webhooks,flows", concurrency=2, pool=pool)
    try:
        assert studio.side.send_webhook("NEW_TIME_ENTRY", entry).status_code == 200
        assert studio.side.send_webhook("NEW_TIME_ENTRY", other).status_code == 200
        wait_for(lambda: FlowRun.objects.filter(status__in=["succeeded", "failed", "skipped"]).count() == 2, 60,
                 f"both runs to finish; worker log:\n{_tail(log)}")
    finally:
        worker.stop(proc)
    tagged = FlowRun.objects.get(status__in=["succeeded", "failed"])
    assert tagged.status == "succeeded", (tagged.error, _tail(log))
    assert FlowRun.objects.get(status="skipped").event_payload["description"] == "Team meeting"
    [tag] = [t for t in standin.workspace(ws).entities["tags"].values() if t["name"] == "bug"]
    assert standin.workspace(ws).entities["time-entries"][entry["id"]]["tagIds"] == [tag["id"]]
    assert standin.request_log.count("POST", "/tags") == 1 and standin.request_log.count("PUT", entry["id"]) == 1


def _tail(path) -> str:
    try:
        return path.read_text()[-3000:]
    except FileNotFoundError:
        return "(no log)"
