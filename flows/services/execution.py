"""Executing a run: its steps in order, each retried on 429/5xx/timeouts, within the run's deadline.

Delivery is at-least-once (acks_late, redelivery after a lost worker), so execution is made
safe to repeat:
- a lease on the run row (not a row lock held across HTTP calls) lets one delivery work at a
  time; a killed worker's lease expires and the redelivered task takes over;
- a step is recorded as ``sending`` (committed) before its request goes out and ``succeeded``
  right after; a later delivery reuses a succeeded step's stored response and never sends it
  again;
- a step found ``sending`` was possibly received: an idempotent method (GET/PUT/DELETE) is sent
  again, a POST/PATCH is not (the step fails with "outcome unknown"; the user can replay it).

Step retries wait in the broker (the task re-enqueues itself with a countdown) instead of
sleeping in a worker slot.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Sequence

from django.conf import settings
from django.utils import timezone

from addons.metrics import FLOW_RUNS, FLOW_STEP_SECONDS
from config.db import insert_prepared, save_prepared
from config.enqueue import enqueue_now

from flows.actions import (
    Outcome,
    PreparedRequest,
    StepError,
    build_request,
    installation_fields,
    send_clockify,
    send_http,
)
from flows.definition import max_attempts_default
from flows.models import FlowRun, FlowRunStep, RunStatus, StepStatus
from flows.services import leases
from flows.selectors import cache_lookup_for, flow_secret_lookup
from flows.templates import Context, StepOutput, TemplateError

logger = logging.getLogger("flows.execution")


@dataclass(frozen=True)
class ExecuteOutcome:
    status: str
    retry_in: float | None = None  # run again after this many seconds


def backoff_seconds(attempt: int, retry_after: float | None) -> float:
    cap = float(getattr(settings, "FLOW_STEP_BACKOFF_MAX_SECONDS", 60.0))
    if retry_after is not None:
        return min(retry_after, cap)
    base = float(getattr(settings, "FLOW_STEP_BACKOFF_BASE_SECONDS", 1.0))
    ceiling = min(cap, base * (2 ** (attempt - 1)))
    return random.uniform(ceiling / 2, ceiling)  # jitter, but never (almost) zero


def _finish(run: FlowRun, token: str, status: str, error: str = "", *,
            step: FlowRunStep | None = None) -> ExecuteOutcome:
    """End the run, saving its last ``step`` in the same statement."""
    leases.release_finished(run, token, status, error[:2000], step=step)
    FLOW_RUNS.labels(status=str(status)).inc()
    logger.info("flow_run_finished", extra={"run": run.public_id, "status": status,
                                            "duration_ms": _elapsed_ms(run)})
    return ExecuteOutcome(status)


def _elapsed_ms(run: FlowRun) -> int:
    return int((timezone.now() - run.created_at).total_seconds() * 1000)


def batch_seconds() -> float:
    """Runs of one delivery not started after this long go back to the queue as a new message."""
    return float(getattr(settings, "FLOW_RUN_BATCH_SECONDS", 1.0))


def flow_runs_execute(*, run_ids: Sequence[int]) -> None:
    """Execute a delivery's runs in turn (each as ``flow_run_execute``) and schedule their retries.

    A batch stays short: once ``batch_seconds`` have passed, the runs not yet started are
    re-enqueued, so a slow run (a slow http action, a workspace waiting on its rate limit) delays
    the others of its batch by at most its own duration; they are few (the events of one web
    dispatch batch, ~10 ms of webhooks). A run that raises was released by ``flow_run_execute``
    (the stalled-run sweeper takes it up again) and is logged; the others go on.
    """
    from celery.exceptions import SoftTimeLimitExceeded

    from flows.tasks import execute_run

    def requeue(rest) -> None:  # one message each, so that free threads take them in parallel
        for run_id in rest:
            enqueue_now(execute_run, run_id)

    started = time.monotonic()
    for position, run_id in enumerate(run_ids):
        if position and time.monotonic() - started > batch_seconds():
            requeue(run_ids[position:])
            return
        try:
            outcome = flow_run_execute(run_id=int(run_id))
        except SoftTimeLimitExceeded:  # the task must stop: the rest of the batch goes back to the queue
            requeue(run_ids[position + 1:])
            raise
        except Exception:
            logger.exception("flow_run_execute_failed", extra={"run_id": run_id})
            continue
        if outcome.retry_in is not None:
            try:
                execute_run.apply_async((run_id,), countdown=outcome.retry_in)
            except Exception as exc:  # broker down: the sweeper re-sends runs whose next attempt is overdue
                logger.warning("enqueue_failed", extra={"task": execute_run.name, "error": type(exc).__name__})


def flow_run_execute(*, run_id: int) -> ExecuteOutcome:
    """Run (or continue) a run. Safe to call any number of times for the same run."""
    claim = leases.claim(run_id)
    if claim is None:
        run = FlowRun.objects.filter(pk=run_id).only("status", "lease_until").first()
        if run is None or run.is_terminal:
            return ExecuteOutcome(run.status if run else "missing")
        # Another delivery holds the lease, or a killed worker's lease has not expired yet.
        wait = 0.5
        if run.lease_until is not None:
            wait = max(wait, (run.lease_until - timezone.now()).total_seconds() + 0.2)
        return ExecuteOutcome(run.status, retry_in=wait)
    try:
        return _execute(claim.run, claim.token, first_start=claim.first_start)
    except BaseException:
        # Unexpected error or the task's time limit: free the run for the next delivery.
        leases.release(claim.run, claim.token, next_attempt_at=timezone.now())
        raise


def _execute(run: FlowRun, token: str, *, first_start: bool = False) -> ExecuteOutcome:
    from addons.variants import Feature
    from installations.selectors import effective_settings

    installation = run.installation
    effective = effective_settings(installation=installation)
    if not (installation.is_active and installation.variant_spec.allows(Feature.FLOWS) and effective["enable_flows"]):
        return _finish(run, token, RunStatus.FAILED, "flows are not active for this installation "
                                                     "(inactive, or setting enable_flows is off)")
    if timezone.now() >= run.deadline_at:
        return _finish(run, token, RunStatus.FAILED, f"the run exceeded its time bound (deadline {run.deadline_at:%H:%M:%S} UTC)")
    renewed_at = time.monotonic()  # the claim just set the lease
    # A first start has no steps to resume (a replay's carried-over steps are the exception).
    steps = {} if first_start and not run.replay_from_step else {step.index: step for step in run.steps.all()}
    ctx = Context(event=run.event_payload, installation=installation_fields(installation),
                  cache_lookup=cache_lookup_for(installation), secret_lookup=flow_secret_lookup(flow_id=run.flow_id))
    actions = run.definition.get("actions", [])
    for index, action in enumerate(actions):
        step = steps.get(index)
        if step is not None and step.status == StepStatus.SUCCEEDED:
            ctx.steps.append(StepOutput(step.status_code, step.response, step.response_truncated))
            continue
        if step is None:
            step = FlowRunStep(run=run, index=index, action_type=str(action.get("type", "")))
        try:
            prepared = build_request(action, ctx, installation=installation, effective=effective)
        except (TemplateError, StepError) as exc:
            return _fail_step(run, token, step, f"{exc}")
        if step.status == StepStatus.SENDING and not prepared.idempotent:
            return _fail_step(run, token, step, (
                f"outcome unknown: the worker stopped while this {prepared.method} was in flight; it is not sent "
                "again to avoid a duplicate (replay from this step if it did not take effect)"))
        if time.monotonic() - renewed_at > leases.lease_seconds() / 3:
            if not leases.renew(run, token):
                return ExecuteOutcome(RunStatus.RUNNING)  # the lease was lost: another delivery is in charge
            renewed_at = time.monotonic()
        now = timezone.now()
        step.status = StepStatus.SENDING
        step.attempts += 1
        step.request = prepared.summary()
        step.started_at = step.started_at or now
        _record_sending(step)  # committed before the request leaves: see the module docstring
        outcome = _send(run, index, prepared, effective)
        FLOW_STEP_SECONDS.labels(type=prepared.action_type).observe(outcome.duration_ms / 1000)
        step.status_code = outcome.status_code
        step.response = outcome.response
        step.response_truncated = outcome.truncated
        step.duration_ms = outcome.duration_ms
        step.error = outcome.error[:2000]
        if outcome.ok:
            step.status = StepStatus.SUCCEEDED
            step.finished_at = timezone.now()
            if index == len(actions) - 1:
                return _finish(run, token, RunStatus.SUCCEEDED, step=step)
            save_prepared(step)
            ctx.steps.append(StepOutput(outcome.status_code, outcome.response, outcome.truncated))
            continue
        max_attempts = int(action.get("max_attempts", max_attempts_default()))
        if outcome.retryable and step.attempts < max_attempts:
            delay = backoff_seconds(step.attempts, outcome.retry_after)
            due = timezone.now() + timedelta(seconds=delay)
            if due < run.deadline_at:
                step.status = StepStatus.RETRYING
                save_prepared(step)
                leases.release(run, token, next_attempt_at=due)
                logger.info("flow_step_retry", extra={"run": run.public_id, "step": index, "attempt": step.attempts,
                                                      "status": outcome.status_code, "delay": round(delay, 3)})
                return ExecuteOutcome(RunStatus.RUNNING, retry_in=delay)
            step.error += " (no retry: the run's time bound would pass)"
        elif outcome.retryable:
            step.error += f" (gave up after {step.attempts} attempts)"
        return _fail_step(run, token, step, step.error)
    return _finish(run, token, RunStatus.SUCCEEDED)


def _record_sending(step: FlowRunStep) -> None:
    if not step._state.adding:
        save_prepared(step)
        return
    if insert_prepared(step, on_conflict='("run_id", "index") DO NOTHING'):  # "index": a reserved word
        return
    # The row is there already. Ours, if config.db repeated the INSERT after the connection died
    # before its reply (same timestamp, to the microsecond): adopt it. Anything else is an error.
    step.pk = FlowRunStep.objects.values_list("pk", flat=True).get(
        run_id=step.run_id, index=step.index, status=StepStatus.SENDING, started_at=step.started_at)
    step._state.adding = False


def _fail_step(run: FlowRun, token: str, step: FlowRunStep, error: str) -> ExecuteOutcome:
    step.status = StepStatus.FAILED
    step.error = error[:2000]
    step.finished_at = timezone.now()
    return _finish(run, token, RunStatus.FAILED, f"step {step.index} failed: {error}", step=step)


def _send(run: FlowRun, index: int, prepared: PreparedRequest, effective: dict) -> Outcome:
    if prepared.action_type == "clockify":
        return send_clockify(prepared, installation=run.installation)
    secret = ""
    if prepared.sign:
        from flows.services.flows import flow_signing_secret

        secret = flow_signing_secret(flow=run.flow)
    return send_http(prepared, effective=effective, message_id=f"{run.public_id}.{index}", signing_secret=secret)
