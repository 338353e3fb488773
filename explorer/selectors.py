"""Explorer reads, always scoped by installation."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.db.models import QuerySet

from explorer.catalog import BUNDLED_SOURCE, get_catalog
from explorer.models import ExplorerCall, OpenAPIDocument
from explorer.services.catalog_sync import LAST_FAILURE_KEY
from installations.models import Installation

MAX_PAGE = 200


def explorer_calls_list(*, installation: Installation, user_id: str | None = None, operation_id: str | None = None,
                        before_id: int | None = None, limit: int = 50) -> QuerySet[ExplorerCall]:
    """Newest first; ``user_id`` narrows to one user's calls (what a non-admin may see)."""
    qs = ExplorerCall.objects.filter(installation=installation)
    if user_id is not None:
        qs = qs.filter(user_id=user_id)
    if operation_id:
        qs = qs.filter(operation_id=operation_id)
    if before_id:
        qs = qs.filter(id__lt=before_id)
    return qs.order_by("-id")[: max(1, min(limit, MAX_PAGE))]


def explorer_call_get(*, installation: Installation, call_id: int) -> ExplorerCall | None:
    return ExplorerCall.objects.filter(installation=installation, pk=call_id).first()


def catalog_status(*, installation: Installation | None = None) -> dict[str, Any]:
    """Which catalogue the explorer uses (Clockify's synced document or the bundled fallback), when
    it was synced and last checked, and the last failed fetch if none succeeded since."""
    catalog = get_catalog(installation)
    synced = catalog.source != BUNDLED_SOURCE
    row = OpenAPIDocument.objects.filter(sha256=catalog.sha256).order_by("-id").first() if synced else None
    return {
        "kind": "synced" if synced else "bundled",
        "source": catalog.source,
        "title": catalog.title,
        "operations": len(catalog),
        "synced_at": row.synced_at if row is not None else None,
        "checked_at": row.checked_at if row is not None else None,
        "last_failure": cache.get(LAST_FAILURE_KEY),
    }
