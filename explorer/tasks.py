"""Explorer background work: thin wrappers around services."""

from __future__ import annotations

import logging

from celery import shared_task

from explorer.catalog import CatalogError
from explorer import services

logger = logging.getLogger("explorer.tasks")


@shared_task(name="explorer.sync_openapi")
def sync_openapi() -> None:
    try:
        services.openapi_sync_if_due()
    except CatalogError as exc:  # unreachable or bad upstream: the current catalogue stays; retried next run
        logger.warning("openapi_sync_failed", extra={"error": str(exc)[:200]})
