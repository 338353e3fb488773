"""Webhook tasks (queue ``webhooks``): thin wrappers around services."""

from __future__ import annotations

from celery import shared_task

from webhooks import services


# takes_many_ids: one message may carry a web process's dispatch batch (webhooks.dispatch).
@shared_task(name="webhooks.process_event", takes_many_ids=True)
def process_event(*event_ids: int) -> list[str]:
    return services.webhook_events_process(event_ids=event_ids)


@shared_task(name="webhooks.sweep_received")
def sweep_received() -> int:
    return services.webhook_events_sweep()
