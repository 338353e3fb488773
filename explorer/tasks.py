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
        services.openapi_sync()
    except CatalogError as exc:  # a bad upstream document keeps the current catalogue; retried next run
        logger.warning("openapi_sync_failed", extra={"error": str(exc)[:200]})
