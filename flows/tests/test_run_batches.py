"""A task carrying several runs (config.enqueue.coalesced): each runs on its own, none is lost."""

from __future__ import annotations

import pytest

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
    assert requeued == [(execute_run, (runs[1].pk, runs[2].pk))]
    assert [FlowRun.objects.get(pk=run.pk).status for run in runs] == ["succeeded", "queued", "queued"]
    assert receiver.count("/in") == 1
