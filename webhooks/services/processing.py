"""Processing stored events (the ``webhooks`` worker) and the sweeper that never loses one."""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import lru_cache
from typing import Sequence

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from config.db import ModelColumns, fetchone_prepared, save_prepared
from config.enqueue import coalesced, enqueue_on_commit
from installations.models import Installation
from webhooks.extensions import processors
from webhooks.models import CustomSource, EventStatus, WebhookEvent

logger = logging.getLogger("webhooks.processing")

_ERROR_MAX_CHARS = 2000


class _ProcessorFailed(Exception):
    """Raised out of the optimistic pass so its whole transaction rolls back."""


def webhook_events_process(*, event_ids: Sequence[int]) -> list[str]:
    """Process a delivery's events in turn, each as ``webhook_event_process`` in its own transaction.

    What they enqueue (the flow runs they start) goes out as one message once all are done
    (config.enqueue.coalesced). An event whose processing raises (the database went away) is
    logged and stays ``received`` for the sweeper; the others go on.
    """
    from celery.exceptions import SoftTimeLimitExceeded

    statuses = []
    with coalesced():
        for event_id in event_ids:
            try:
                statuses.append(webhook_event_process(event_id=int(event_id)))
            except SoftTimeLimitExceeded:  # the task must stop; the rest stays received for the sweeper
                raise
            except Exception:
                logger.exception("webhook_event_process_failed", extra={"event_id": event_id})
                statuses.append("error")
    return statuses


def webhook_event_process(*, event_id: int) -> str:
    """Run every registered processor once for a ``received`` event; returns the resulting status.

    Idempotent: only a ``received`` event is processed, under a row lock taken with SKIP LOCKED,
    so a redelivered or swept duplicate task returns at once instead of processing twice.

    One processor failing must not undo the others' writes. Savepoints give that isolation but
    cost two round trips per processor on every event, so the first pass runs the processors
    straight in the event's transaction; only when one raises is that pass rolled back and the
    event processed again with a savepoint per processor (processors are idempotent). What they
    enqueue is sent only once the event is marked, so a rolled-back pass sends nothing.
    """
    try:
        return _process(event_id, isolated=False)
    except _ProcessorFailed:
        return _process(event_id, isolated=True)


def _process(event_id: int, *, isolated: bool) -> str:
    with transaction.atomic():
        event = _lock_received(event_id)
        if event is None:
            return "not_pending"
        if not isolated:
            _observe_lag(event)
        event.attempts += 1
        event.processed_at = timezone.now()
        installation = event.installation
        if not installation.is_active:
            # Deactivated or deleted after the event was accepted: keep it, run nothing.
            event.status = EventStatus.SKIPPED
            event.error = f"installation {installation.status.lower()} when processed"
            save_prepared(event, fields=_OUTCOME_FIELDS)
            return event.status
        errors = []
        for name, processor in processors():
            if not isolated:
                try:
                    processor(event)
                except Exception as exc:
                    raise _ProcessorFailed(name) from exc
                continue
            try:
                with transaction.atomic():
                    processor(event)
            except Exception as exc:  # a processor's failure is recorded on the event, not raised
                errors.append(f"{name}: {type(exc).__name__}: {exc}")
                logger.warning(
                    "webhook_processor_failed",
                    extra={"processor": name, "event_id": event.pk, "error": type(exc).__name__},
                )
        event.status = EventStatus.FAILED if errors else EventStatus.PROCESSED
        event.error = "\n".join(errors)[:_ERROR_MAX_CHARS]
        save_prepared(event, fields=_OUTCOME_FIELDS)
        return event.status


_OUTCOME_FIELDS = ("attempts", "processed_at", "status", "error")


@lru_cache(maxsize=1)
def _lock_statement() -> tuple[str, ModelColumns, ModelColumns, ModelColumns]:
    # The raw body and headers are not needed to process an event: deferred, as with .defer().
    events = ModelColumns(WebhookEvent, "e", exclude=("raw_body", "headers"))
    installations = ModelColumns(Installation, "i")
    sources = ModelColumns(CustomSource, "s")
    sql = (
        f"SELECT {events.sql}, {installations.sql}, {sources.sql} FROM {WebhookEvent._meta.db_table} e "
        f"JOIN {Installation._meta.db_table} i ON i.id = e.installation_id "
        f"LEFT JOIN {CustomSource._meta.db_table} s ON s.id = e.custom_source_id "
        "WHERE e.id = %s AND e.status = %s"
    )
    if connection.vendor == "postgresql":
        sql += " FOR UPDATE OF e SKIP LOCKED"
    return sql, events, installations, sources


def _lock_received(event_id: int) -> WebhookEvent | None:
    """The event, if still ``received``, locked (SKIP LOCKED), with installation and custom source.

    Once per event, so one prepared statement (config.db) rather than the ORM's compiled query.
    """
    sql, events, installations, sources = _lock_statement()
    row = fetchone_prepared(sql, [event_id, EventStatus.RECEIVED.value])
    if row is None:
        return None
    event = events.build(row)
    event.installation = installations.build(row, events.width)
    offset = events.width + installations.width
    event.custom_source = sources.build(row, offset) if event.custom_source_id is not None else None
    return event


def _observe_lag(event: WebhookEvent) -> None:
    try:
        from addons.metrics import WEBHOOK_QUEUE_LAG

        WEBHOOK_QUEUE_LAG.observe(max(0.0, (timezone.now() - event.received_at).total_seconds()))
    except Exception:  # metrics are best effort
        pass


def webhook_events_sweep(*, now=None, older_than_seconds: int | None = None, batch_size: int | None = None) -> int:
    """Re-enqueue events stuck in ``received`` (the broker was down when they were accepted).

    An event is re-enqueued at most once per ``WEBHOOK_SWEEP_AFTER_SECONDS``, so a slow queue
    is not flooded with copies; copies that do arrive are no-ops (see webhook_event_process).
    """
    from webhooks.tasks import process_event

    now = now or timezone.now()
    age = timedelta(seconds=settings.WEBHOOK_SWEEP_AFTER_SECONDS if older_than_seconds is None else older_than_seconds)
    cutoff = now - age
    limit = batch_size or settings.WEBHOOK_SWEEP_BATCH_SIZE
    with transaction.atomic():
        ids = list(
            WebhookEvent.objects.select_for_update(skip_locked=True)
            .filter(status=EventStatus.RECEIVED, received_at__lte=cutoff)
            .filter(Q(swept_at__isnull=True) | Q(swept_at__lte=cutoff))
            .order_by("received_at")
            .values_list("pk", flat=True)[:limit]
        )
        if not ids:
            return 0
        WebhookEvent.objects.filter(pk__in=ids).update(swept_at=now)
        for event_id in ids:
            enqueue_on_commit(process_event, event_id)
    logger.info("webhook_events_swept", extra={"count": len(ids)})
    return len(ids)
