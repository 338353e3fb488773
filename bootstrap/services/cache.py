"""Entity cache writes: bulk upserts from bootstrap pages, single changes from webhook events,
and the TTL purge (a retention policy)."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any, Iterable

from django.db import connection, transaction
from django.utils import timezone

from addons.catalog import EVENTS, EntityAction
from addons.variants import Feature
from bootstrap.models import CachedEntity
from config.db import execute_prepared
from installations.models import Installation, InstallationStatus
from installations.retention import RetentionPolicy, retention_apply
from webhooks.models import EventSource

logger = logging.getLogger("bootstrap.cache")

# Events whose payload is a reference (ids only), not the entity: where to find its id.
_REFERENCE_ID_KEYS = {
    "expenses": "expenseId",
    "assignments": "assignmentId",
    "time-entries": "timeEntryId",
    "approval-requests": "approvalRequestId",
    "time-off-requests": "requestId",
}


def _entity_id(item: Any) -> str:
    if isinstance(item, dict):
        value = item.get("id")
        if isinstance(value, (str, int)) and str(value):
            return str(value)[:64]
    return ""


def cached_entities_upsert(*, installation: Installation, entity_type: str, items: Iterable[Any],
                           fetched_at: datetime | None = None) -> int:
    """Store fetched entities (items without an id are skipped); returns how many were stored."""
    fetched_at = fetched_at or timezone.now()
    rows: dict[str, CachedEntity] = {}  # last one wins: ON CONFLICT cannot touch a row twice
    for item in items:
        entity_id = _entity_id(item)
        if entity_id:
            rows[entity_id] = CachedEntity(installation=installation, entity_type=entity_type, entity_id=entity_id,
                                           data=item, fetched_at=fetched_at, updated_at=fetched_at)
    if rows:
        CachedEntity.objects.bulk_create(
            rows.values(), update_conflicts=True, unique_fields=["installation", "entity_type", "entity_id"],
            update_fields=["data", "fetched_at", "updated_at"],
        )
    return len(rows)


def _event_time(event: Any) -> datetime:
    for attr in ("received_at", "created_at"):
        value = getattr(event, attr, None)
        if isinstance(value, datetime):
            return value
    return timezone.now()


def cached_entity_apply_event(event: Any) -> None:
    """Webhook processor: created/updated events upsert the entity, deleted events remove it.

    Only events from Clockify (``source == clockify``) count. Idempotent (a replay changes
    nothing) and ordered by the event's acceptance time: a row
    changed later (by a newer event or a bootstrap fetch) is not overwritten by an older event.
    """
    if getattr(event, "source", None) != EventSource.CLOCKIFY:
        # A custom source's sender chooses its own "type": only Clockify speaks for Clockify's entities.
        return
    spec = EVENTS.get(getattr(event, "event_type", ""))
    installation: Installation = event.installation
    payload = getattr(event, "payload", None)
    if spec is None or spec.action is EntityAction.OTHER or not isinstance(payload, dict):
        return
    if not installation.variant_spec.allows(Feature.BOOTSTRAP) or installation.status == InstallationStatus.DELETED:
        return
    if payload.get("workspaceId") not in (None, "", installation.workspace_id):
        logger.warning("cache_event_foreign_workspace", extra={"event_type": spec.name})
        return
    full = bool(_entity_id(payload))
    entity_id = _entity_id(payload) or str(getattr(event, "entity_id", "") or "") or str(
        payload.get(_REFERENCE_ID_KEYS.get(spec.entity_type, ""), "") or "")
    if not entity_id:
        return
    at = _event_time(event)
    if connection.vendor == "postgresql" and spec.action is not EntityAction.DELETED:
        # One prepared statement on the hot path (every processed event); not even a QuerySet is
        # built, which alone cost more than the statement.
        execute_prepared(_UPSERT_SQL, [installation.pk, spec.entity_type, entity_id, json.dumps(payload), at, full])
        return
    scope = CachedEntity.objects.filter(installation=installation, entity_type=spec.entity_type, entity_id=entity_id)
    if spec.action is EntityAction.DELETED:
        scope.filter(updated_at__lte=at).delete()
        return
    with transaction.atomic():
        row = scope.select_for_update().first()
        if row is None:
            CachedEntity.objects.bulk_create(
                [CachedEntity(installation=installation, entity_type=spec.entity_type, entity_id=entity_id,
                              data=payload, updated_at=at)],
                ignore_conflicts=True,  # a concurrent fetch stored it first: that copy is as new
            )
        elif row.updated_at <= at:
            # A reference payload (ids only) must not wipe the entity's fields: merge it.
            row.data = payload if full else {**row.data, **payload}
            row.updated_at = at
            row.save(update_fields=["data", "updated_at"])


_TABLE = CachedEntity._meta.db_table
# Insert, or update a row no newer than the event; a reference payload (ids only) is merged in.
_UPSERT_SQL = (
    f"INSERT INTO {_TABLE} AS cached (installation_id, entity_type, entity_id, data, updated_at) "
    f"VALUES (%s, %s, %s, %s::jsonb, %s) "
    f"ON CONFLICT (installation_id, entity_type, entity_id) DO UPDATE SET "
    f"data = CASE WHEN %s::boolean THEN EXCLUDED.data ELSE cached.data || EXCLUDED.data END, "
    f"updated_at = EXCLUDED.updated_at WHERE cached.updated_at <= EXCLUDED.updated_at"
)

# updated_at is refreshed by every fetch and every webhook change: "not refreshed for N days".
CACHED_ENTITIES_RETENTION = RetentionPolicy("cached_entities", CachedEntity, "updated_at", "cache_ttl_days")


def cached_entities_purge(*, now: datetime | None = None, dry_run: bool = False) -> int:
    """Delete entities not refreshed for ``cache_ttl_days`` (each installation's effective setting),
    through the unified retention mechanism (also ``manage.py retention --kind cached_entities``)."""
    return retention_apply(CACHED_ENTITIES_RETENTION, now=now, dry_run=dry_run).count
