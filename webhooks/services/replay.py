"""Replay: process an event again, recorded as a new event.

A replay is a copy of the original (same body, headers, derived ids) with ``replay_of`` pointing
at the original and no dedupe key. A new row rather than resetting the old one because the
original's outcome stays in the log, and because consumers key their idempotency on the event
(one flow run per (flow, event)): a replay is a deliberate new delivery, so it must get a new id.
Replaying a replay points at the same original.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from config.enqueue import enqueue_on_commit
from installations.models import Installation
from webhooks.models import EventStatus, WebhookEvent

logger = logging.getLogger("webhooks.replay")

MAX_REPLAY_BATCH = 1000
_COPIED = ("installation_id", "source", "custom_source_id", "event_type", "headers", "raw_body", "payload",
           "workspace_id", "user_id", "entity_id", "project_id")


class ReplayError(ValueError):
    pass


@transaction.atomic
def webhook_event_replay(*, event: WebhookEvent) -> WebhookEvent:
    """Store a replay of ``event`` and enqueue its processing."""
    from webhooks.tasks import process_event

    installation = Installation.objects.get(pk=event.installation_id)
    if not installation.is_active:
        raise ReplayError(f"installation is {installation.status.lower()}")
    replay = WebhookEvent(
        **{field: getattr(event, field) for field in _COPIED},
        received_at=timezone.now(),
        status=EventStatus.RECEIVED,
        replay_of_id=event.replay_of_id or event.pk,
    )
    replay.save()
    enqueue_on_commit(process_event, replay.pk)
    logger.info("webhook_event_replayed", extra={"event_id": event.pk, "replay_id": replay.pk})
    return replay


def webhook_events_replay(
    *,
    installation: Installation,
    event_ids: list[int] | None = None,
    status: str | None = None,
    event_type: str | None = None,
    received_after: datetime | None = None,
    received_before: datetime | None = None,
    limit: int = MAX_REPLAY_BATCH,
) -> list[WebhookEvent]:
    """Replay a filtered set of one installation's events (oldest first, at most ``limit``)."""
    events: QuerySet[WebhookEvent] = WebhookEvent.objects.filter(installation=installation)
    if event_ids is not None:
        events = events.filter(pk__in=event_ids)
    if status:
        events = events.filter(status=status)
    if event_type:
        events = events.filter(event_type=event_type)
    if received_after:
        events = events.filter(received_at__gte=received_after)
    if received_before:
        events = events.filter(received_at__lt=received_before)
    with transaction.atomic():
        return [webhook_event_replay(event=e) for e in events.order_by("received_at", "pk")[: min(limit, MAX_REPLAY_BATCH)]]
