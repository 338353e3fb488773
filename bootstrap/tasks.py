"""Bootstrap Celery tasks (queue ``bootstrap``): thin wrappers over the services."""

from __future__ import annotations

from celery import shared_task

from bootstrap import services


@shared_task(name="bootstrap.drive", acks_late=True, reject_on_worker_lost=True)
def drive(run_id: int) -> str:
    return services.bootstrap_drive(run_id=run_id).outcome


@shared_task(name="bootstrap.sweep")
def sweep() -> int:
    return services.bootstrap_sweep()
