"""A task carrying several runs (config.enqueue.coalesced): each runs on its own, none is lost."""

from __future__ import annotations

import pytest
from django.db import connection

from flows import services
from flows.models import FlowRun
from flows.tests.helpers import event, http_flow

pytestmark = pytest.mark.django_db


def test_a_batch_runs_each_run_and_goes_on_after_one_raises(uw, receiver, allow_private, monkeypatch):
    from flows.services import leases

    uw.post("/flows", http_flow(receiver.url("/in")))
    runs = [services.flow_runs_for_event(event=event(uw, {"id": f"te{n}"}))[0] for n in range(3)]
    real_claim = leases.claim

    def claim(run_id):
        if run_id == runs[1].pk:
            raise RuntimeError("the database went away")
        return real_claim(run_id)

    monkeypatch.setattr(leases, "claim", claim)
    services.flow_runs_execute(run_ids=[run.pk for run in runs])
    statuses = [FlowRun.objects.get(pk=run.pk).status for run in runs]
    assert statuses == ["succeeded", "queued", "succeeded"] and receiver.count("/in") == 2


def test_a_batch_sends_what_it_did_not_start_back_to_the_queue(uw, receiver, allow_private, monkeypatch, settings):
    from flows.services import execution
    from flows.tasks import execute_run

    uw.post("/flows", http_flow(receiver.url("/in")))
    runs = [services.flow_runs_for_event(event=event(uw, {"id": f"te{n}"}))[0] for n in range(3)]
    requeued = []
    monkeypatch.setattr(execution, "enqueue_now", lambda task, *ids: requeued.append((task, ids)))
    settings.FLOW_RUN_BATCH_SECONDS = 0  # every run after the first is past the batch's time
    services.flow_runs_execute(run_ids=[run.pk for run in runs])
    assert requeued == [(execute_run, (runs[1].pk,)), (execute_run, (runs[2].pk,))]  # for parallel threads
    assert [FlowRun.objects.get(pk=run.pk).status for run in runs] == ["succeeded", "queued", "queued"]
    assert receiver.count("/in") == 1


def test_a_lost_retry_enqueue_does_not_stop_the_batch(uw, receiver, allow_private, monkeypatch):
    from flows.tasks import execute_run

    uw.post("/flows", http_flow(receiver.url("/status/503"), max_attempts=3))
    uw.post("/flows", {**http_flow(receiver.url("/in")), "name": "second",
                       "trigger": {"events": ["NEW_TAG"]}})
    [flaky] = services.flow_runs_for_event(event=event(uw, {"id": "te1"}))
    [fine] = services.flow_runs_for_event(event=event(uw, {"id": "tag1"}, event_type="NEW_TAG"))

    def broker_down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(execute_run, "apply_async", broker_down)
    services.flow_runs_execute(run_ids=[flaky.pk, fine.pk])
    flaky.refresh_from_db()
    assert flaky.status == "running" and flaky.next_attempt_at is not None  # the sweeper's to re-send
    assert FlowRun.objects.get(pk=fine.pk).status == "succeeded"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the repeated statements are PostgreSQL's prepared path")
def test_statements_repeated_after_a_lost_reply_are_recognised_as_ours(uw, receiver, allow_private):
    from datetime import timedelta

    from django.utils import timezone

    from flows.models import FlowRunStep, StepStatus
    from flows.services import execution, leases

    uw.post("/flows", http_flow(receiver.url("/in")))
    [run] = services.flow_runs_for_event(event=event(uw, {"id": "te1"}))
    now = timezone.now()
    first = leases._claim_prepared(run.pk, "token-1", now, now + timedelta(seconds=60))
    again = leases._claim_prepared(run.pk, "token-1", now, now + timedelta(seconds=60))
    other = leases._claim_prepared(run.pk, "token-2", now, now + timedelta(seconds=60))
    assert first.first_start and again is not None and other is None

    def sending() -> FlowRunStep:
        return FlowRunStep(run=run, index=0, action_type="http", status=StepStatus.SENDING, attempts=1,
                           started_at=now)

    written, repeated = sending(), sending()
    execution._record_sending(written)
    execution._record_sending(repeated)
    assert repeated.pk == written.pk and FlowRunStep.objects.filter(run=run).count() == 1
    stranger = sending()
    stranger.started_at = now + timedelta(seconds=1)
    with pytest.raises(FlowRunStep.DoesNotExist):
        execution._record_sending(stranger)
