"""Webhook tasks (queue ``webhooks``): thin wrappers around services."""

from __future__ import annotations

from celery import shared_task

from config.enqueue import enqueue_now
from webhooks import services
from webhooks.services import workspace_webhooks


# takes_many_ids: one message may carry a web process's dispatch batch (webhooks.dispatch).
@shared_task(name="webhooks.process_event", takes_many_ids=True)
def process_event(*event_ids: int) -> list[str]:
    return services.webhook_events_process(event_ids=event_ids)


@shared_task(name="webhooks.sweep_received")
def sweep_received() -> int:
    return services.webhook_events_sweep()


# Registering workspace webhooks calls Clockify for seconds: the default queue, not the ingest one
# (routed in config.settings.CELERY_TASK_ROUTES).
@shared_task(name="webhooks.sync_workspace_webhooks", bind=True, max_retries=10)
def sync_workspace_webhooks(self, installation_id: int) -> dict[str, str]:
    try:
        return workspace_webhooks.workspace_webhooks_sync(installation_id=installation_id).states
    except workspace_webhooks.WorkspaceWebhooksBusy as exc:  # another sync of it runs: converge after it
        raise self.retry(countdown=10, exc=exc)


@shared_task(name="webhooks.sync_all_workspace_webhooks")
def sync_all_workspace_webhooks() -> int:
    ids = workspace_webhooks.installations_to_sync()
    for installation_id in ids:
        enqueue_now(sync_workspace_webhooks, installation_id)
    return len(ids)
