"""Syncing the OpenAPI document into the database cache.

The default source is Clockify's published document; the periodic task fetches it when the cached
copy is older than ``OPENAPI_SYNC_MAX_AGE_SECONDS`` (hourly checks, so a fresh deployment has it
within the hour, or at once with ``manage.py sync_openapi``). A failed fetch keeps the active
catalogue (the bundled one until a first sync) and is remembered for the explorer page.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from explorer.catalog import (
    BUNDLED_SOURCE, CatalogError, clear_catalog_cache, compile_document, configured_source, document_sha256,
    parse_document, read_source,
)
from explorer.models import OpenAPIDocument

logger = logging.getLogger("explorer.sync")

KEEP_DOCUMENTS = 3  # older syncs are kept briefly for support; the newest one is active
LAST_FAILURE_KEY = "explorer:openapi-sync-failure"
_FAILURE_TTL_SECONDS = 7 * 86400


@dataclass(frozen=True)
class SyncResult:
    source: str
    sha256: str
    operation_count: int
    changed: bool
    document_id: int | None


def openapi_sync(*, source: str | None = None) -> SyncResult:
    """Read, compile and cache the document at ``source`` (default: ``CLOCKIFY_OPENAPI_SOURCE``).

    With no source configured the bundled catalogue is active and nothing is stored. An unchanged
    document (same SHA-256) only refreshes ``checked_at``. Raises ``CatalogError`` on a bad document,
    leaving the active catalogue as it was.
    """
    source = (source if source is not None else configured_source()).strip()
    if not source or source == BUNDLED_SOURCE:
        return SyncResult(BUNDLED_SOURCE, "", 0, False, None)
    try:
        result = _sync(source)
    except CatalogError as exc:
        cache.set(LAST_FAILURE_KEY, {"source": source[:500], "error": str(exc)[:300],
                                     "at": timezone.now().isoformat()}, _FAILURE_TTL_SECONDS)
        raise
    cache.delete(LAST_FAILURE_KEY)
    return result


def openapi_sync_if_due() -> SyncResult | None:
    """The periodic sync: fetch unless the newest document of the configured source is fresh."""
    source = configured_source()
    max_age = timedelta(seconds=int(getattr(settings, "OPENAPI_SYNC_MAX_AGE_SECONDS", 86400)))
    newest = OpenAPIDocument.objects.order_by("-id").only("source", "checked_at").first()
    if source and newest is not None and newest.source == source and newest.checked_at > timezone.now() - max_age:
        return None
    return openapi_sync(source=source)


def _sync(source: str) -> SyncResult:
    raw = read_source(source)
    sha = document_sha256(raw)
    newest = OpenAPIDocument.objects.order_by("-id").first()
    if newest is not None and newest.sha256 == sha and newest.source == source:
        newest.save(update_fields=["checked_at"])
        logger.info("openapi_sync_unchanged", extra={"operations": newest.operation_count})
        return SyncResult(source, sha, newest.operation_count, False, newest.pk)
    compiled = compile_document(parse_document(raw), source=source, sha256=sha)
    with transaction.atomic():
        document = OpenAPIDocument.objects.create(
            source=source[:500], sha256=sha, title=compiled["title"][:200], version=compiled["version"][:100],
            operation_count=len(compiled["operations"]), compiled=compiled,
        )
        stale = OpenAPIDocument.objects.order_by("-id").values_list("id", flat=True)[KEEP_DOCUMENTS:]
        OpenAPIDocument.objects.filter(id__in=list(stale)).delete()
    clear_catalog_cache()
    logger.info("openapi_synced", extra={"operations": document.operation_count, "sha256": sha[:12]})
    return SyncResult(source, sha, document.operation_count, True, document.pk)


def openapi_reset() -> int:
    """Drop every cached document: the bundled catalogue becomes active again."""
    deleted, _ = OpenAPIDocument.objects.all().delete()
    clear_catalog_cache()
    return deleted


__all__ = ["CatalogError", "SyncResult", "openapi_reset", "openapi_sync", "openapi_sync_if_due"]
