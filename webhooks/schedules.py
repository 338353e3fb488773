"""Periodic webhook work (merged into the beat schedule by config.celery).

Retention of the event log runs with the platform's hourly ``installations.retention`` task.
"""

from datetime import timedelta

from django.conf import settings

SCHEDULE = {
    "webhooks-sweep-received": {
        "task": "webhooks.sweep_received",
        "schedule": timedelta(seconds=settings.WEBHOOK_SWEEP_INTERVAL_SECONDS),
    },
    # Re-create workspace webhooks deleted in Clockify, retry refused or failed ones.
    "webhooks-sync-workspace-webhooks": {
        "task": "webhooks.sync_all_workspace_webhooks",
        "schedule": timedelta(seconds=settings.WORKSPACE_WEBHOOKS_SYNC_INTERVAL_SECONDS),
    },
}
