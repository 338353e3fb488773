"""Flow tasks (queue ``flows``): thin wrappers that take ids and call one service."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from flows import services

_RUN_LIMIT = int(getattr(settings, "FLOW_RUN_TIME_LIMIT_SECONDS", 300))


@shared_task(name="flows.execute_run", acks_late=True, soft_time_limit=_RUN_LIMIT + 30, time_limit=_RUN_LIMIT + 60)
def execute_run(run_id: int) -> None:
    outcome = services.flow_run_execute(run_id=run_id)
    if outcome.retry_in is not None:
        # A lost re-enqueue is not fatal: the sweeper re-sends runs whose next attempt is overdue.
        execute_run.apply_async((run_id,), countdown=outcome.retry_in)


@shared_task(name="flows.requeue_stalled_runs")
def requeue_stalled_runs() -> int:
    return services.flow_runs_requeue_stalled()
