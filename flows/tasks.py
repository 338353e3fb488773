"""Flow tasks (queue ``flows``): thin wrappers that take ids and call one service."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from flows import services

_RUN_LIMIT = int(getattr(settings, "FLOW_RUN_TIME_LIMIT_SECONDS", 300))


# takes_many_ids: one message may carry the runs a batch of events started (config.enqueue).
@shared_task(name="flows.execute_run", takes_many_ids=True, acks_late=True,
             soft_time_limit=_RUN_LIMIT + 30, time_limit=_RUN_LIMIT + 60)
def execute_run(*run_ids: int) -> None:
    services.flow_runs_execute(run_ids=run_ids)


@shared_task(name="flows.requeue_stalled_runs")
def requeue_stalled_runs() -> int:
    return services.flow_runs_requeue_stalled()
