"""Webhook tasks (queue ``webhooks``): thin wrappers around services."""

from __future__ import annotations

from celery import shared_task

from webhooks import services


@shared_task(name="webhooks.process_event")
def process_event(event_id: int) -> str:
    return services.webhook_event_process(event_id=event_id)


@shared_task(name="webhooks.sweep_received")
def sweep_received() -> int:
    return services.webhook_events_sweep()
