"""Runs: started by processed webhook events (one per flow and event), replayed, purged."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from addons.metrics import FLOW_RUNS
from addons.variants import Feature
from config.db import insert_prepared
from config.enqueue import enqueue_on_commit
from flows import conditions as cond
from flows import selectors
from flows.models import Flow, FlowRun, FlowRunStep, RunStatus, StepStatus
from installations.models import Installation

logger = logging.getLogger("flows.runs")


class ReplayError(ValueError):
    pass


def run_time_limit() -> int:
    return int(getattr(settings, "FLOW_RUN_TIME_LIMIT_SECONDS", 300))


def _enqueue(run: FlowRun) -> None:
    from flows.tasks import execute_run

    enqueue_on_commit(execute_run, run.pk)


def flows_active_for(installation: Installation) -> bool:
    """Flows run only for an active installation whose plan has them and whose setting is on."""
    from installations.selectors import effective_settings

    if not installation.is_active or not installation.variant_spec.allows(Feature.FLOWS):
        return False
    return bool(effective_settings(installation=installation).get("enable_flows"))


def _new_run(*, flow: Flow, event_id: int | None, event_type: str, payload: Any,
             budget: cond.Budget | None = None) -> FlowRun:
    result = cond.evaluate(flow.conditions, payload, budget=budget)
    now = timezone.now()
    return FlowRun(
        flow=flow, installation_id=flow.installation_id, flow_version=flow.version,
        definition=flow.definition(), event_id=event_id, event_type=event_type, event_payload=payload,
        status=RunStatus.QUEUED if result.matched else RunStatus.SKIPPED, conditions_result=result.as_dict(),
        deadline_at=now + timedelta(seconds=run_time_limit()),
        finished_at=None if result.matched else now, next_attempt_at=now if result.matched else None,
    )


def flow_runs_for_event(*, event: Any) -> list[FlowRun]:
    """The webhook processor: one run per enabled flow this event triggers. Idempotent.

    Once per event, so each run is one prepared INSERT that the unique (flow, event) key turns
    into a no-op when this event already started that flow (a replayed or redelivered event);
    only then is the existing run looked up. No savepoint is needed: a conflict is not an error.
    """
    installation = event.installation
    if not flows_active_for(installation):
        return []
    custom_source = None
    if getattr(event, "source", "clockify") == "custom":
        source = getattr(event, "custom_source", None)
        custom_source = getattr(source, "public_id", None) or ""
    flows = selectors.flows_triggered_by(installation=installation, event_type=event.event_type,
                                         custom_source=custom_source)
    payload = event.payload if event.payload is not None else {}
    budget = cond.Budget.start()  # one bound on the conditions of this event, over all its flows
    runs = []
    for flow in flows:
        run = _new_run(flow=flow, event_id=event.pk, event_type=event.event_type, payload=payload, budget=budget)
        created = insert_prepared(run, on_conflict=_ONE_RUN_PER_EVENT)
        if not created:
            run = FlowRun.objects.get(flow=flow, event_id=event.pk, replay_of__isnull=True)
        if run.status == RunStatus.QUEUED:
            _enqueue(run)  # also for an existing queued run: its first enqueue may have been lost
        if created:
            if run.status == RunStatus.SKIPPED:
                FLOW_RUNS.labels(status="skipped").inc()
            logger.info("flow_run_created", extra={"run": run.public_id, "flow": flow.public_id,
                                                   "status": run.status, "event_type": event.event_type})
        runs.append(run)
    return runs


# The partial unique index uniq_flow_run_per_event, as ON CONFLICT must name it.
_ONE_RUN_PER_EVENT = "(flow_id, event_id) WHERE replay_of_id IS NULL AND event_id IS NOT NULL DO NOTHING"


def _first_unfinished_step(run: FlowRun) -> int:
    done = {s.index for s in run.steps.all() if s.status == StepStatus.SUCCEEDED}
    index = 0
    while index in done:
        index += 1
    return index


@transaction.atomic
def flow_run_replay(*, run: FlowRun, start: str = "failed") -> FlowRun:
    """A new run of the same event: from the start, or from the step that failed.

    Both use the flow's current definition, so a fix to the failing step is picked up. From the
    failed step, the steps before it are carried over (not sent again); that is only sound when
    they are unchanged, otherwise the replay must start over.
    """
    if start not in ("failed", "start"):
        raise ReplayError("from must be 'failed' or 'start'")
    if not run.is_terminal:
        raise ReplayError(f"the run is still {run.status}")
    flow = Flow.objects.select_related("installation").get(pk=run.flow_id)
    if not flows_active_for(flow.installation):
        raise ReplayError("flows are not active for this installation")
    from_step = 0
    carried: list[FlowRunStep] = []
    if start == "failed":
        if run.status != RunStatus.FAILED:
            raise ReplayError("only a failed run can be replayed from the failed step")
        from_step = _first_unfinished_step(run)
        if flow.actions[:from_step] != run.definition.get("actions", [])[:from_step]:
            raise ReplayError(f"the flow's steps before step {from_step} changed since this run; replay from the start")
        carried = [s for s in run.steps.all() if s.index < from_step]
    now = timezone.now()
    replay = FlowRun.objects.create(
        flow=flow, installation_id=flow.installation_id, flow_version=flow.version, definition=flow.definition(),
        event_id=run.event_id, event_type=run.event_type, event_payload=run.event_payload,
        status=RunStatus.QUEUED, conditions_result=run.conditions_result, replay_of=run, replay_from_step=from_step,
        deadline_at=now + timedelta(seconds=run_time_limit()), next_attempt_at=now,
    )
    FlowRunStep.objects.bulk_create(
        FlowRunStep(run=replay, index=s.index, action_type=s.action_type, status=s.status, request=s.request,
                    status_code=s.status_code, response=s.response, response_truncated=s.response_truncated,
                    duration_ms=s.duration_ms, attempts=s.attempts, copied_from_run=run.public_id,
                    started_at=s.started_at, finished_at=s.finished_at)
        for s in carried
    )
    _enqueue(replay)
    logger.info("flow_run_replayed", extra={"run": replay.public_id, "replay_of": run.public_id, "from_step": from_step})
    return replay


def flow_runs_requeue_stalled(*, grace_seconds: int = 60) -> int:
    """Re-enqueue runs whose task was lost (broker down at enqueue, a retry that never came back)."""
    now = timezone.now()
    stalled = FlowRun.objects.filter(
        status__in=[RunStatus.QUEUED, RunStatus.RUNNING],
        next_attempt_at__lt=now - timedelta(seconds=grace_seconds),
    ).filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
    count = 0
    for run in stalled.only("pk")[:1000]:
        FlowRun.objects.filter(pk=run.pk).update(next_attempt_at=now)
        _enqueue(run)
        count += 1
    if count:
        logger.info("flow_runs_requeued", extra={"count": count})
    return count


def _detach_replays(run_ids: list[int]) -> None:
    FlowRun.objects.filter(replay_of_id__in=run_ids).update(replay_of=None)


def flow_runs_retention_policy():
    """Runs expire after ``flow_execution_retention_days``; runs still in flight are kept."""
    from installations.retention import RetentionPolicy

    return RetentionPolicy(
        "flow_runs", FlowRun, "created_at", "flow_execution_retention_days",
        keep=Q(status__in=[RunStatus.QUEUED, RunStatus.RUNNING]), before_delete=_detach_replays,
    )


def flow_runs_purge(*, now=None, batch_size: int = 1000) -> int:
    """Delete runs (and their steps) older than each installation's ``flow_execution_retention_days``.

    The shared retention mechanism (``manage.py retention``, hourly in beat) calls the same policy.
    """
    from installations.retention import retention_apply

    return retention_apply(flow_runs_retention_policy(), now=now, batch_size=batch_size).count
