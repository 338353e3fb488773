"""Retention: delete events older than each installation's ``webhook_log_retention_days``.

The mechanism is the platform's (installations.retention: per-installation cutoff, small batches,
a time budget); this module declares the event log's policy, registered in ``WebhooksConfig.ready``
so ``manage.py retention`` and its hourly task include it, and offers it on its own.
"""

from __future__ import annotations

import time
from datetime import datetime

from django.conf import settings

from installations.retention import RetentionPolicy, retention_apply
from webhooks.models import WebhookEvent

WEBHOOK_EVENTS_RETENTION = RetentionPolicy(
    kind="webhook_events",
    model=WebhookEvent,
    time_field="received_at",
    setting_id="webhook_log_retention_days",
)


def webhook_events_purge(
    *, now: datetime | None = None, batch_size: int | None = None, time_budget_seconds: float | None = None
) -> int:
    """Delete expired events in batches until done or the time budget is spent; returns rows deleted.

    Replays of a deleted event keep their rows (``replay_of`` becomes NULL).
    """
    budget = settings.WEBHOOK_PURGE_TIME_BUDGET_SECONDS if time_budget_seconds is None else time_budget_seconds
    result = retention_apply(
        WEBHOOK_EVENTS_RETENTION,
        now=now,
        batch_size=batch_size or settings.WEBHOOK_PURGE_BATCH_SIZE,
        deadline=time.monotonic() + budget,
    )
    return result.count
