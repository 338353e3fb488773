"""The active catalogue: the newest synced document from the database, else the bundled one.

Each process keeps the built ``Catalog`` and checks, with one small query, whether a newer sync
replaced it, so a ``sync_openapi`` in one process reaches every web and worker process.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.db import DatabaseError

from explorer.catalog.compiler import compile_document, document_sha256, parse_document
from explorer.catalog.source import BUNDLED_SOURCE, read_source
from explorer.catalog.types import Catalog

logger = logging.getLogger("explorer.catalog")

_lock = threading.Lock()
_active: dict[str, Any] = {"key": None, "catalog": None}
_bundled: dict[str, Catalog] = {}


def bundled_catalog() -> Catalog:
    """The project's own catalogue, compiled once per process."""
    catalog = _bundled.get("catalog")
    if catalog is None:
        raw = read_source(BUNDLED_SOURCE)
        sha = document_sha256(raw)
        compiled = compile_document(parse_document(raw), source=BUNDLED_SOURCE, sha256=sha)
        catalog = _bundled.setdefault("catalog", Catalog.from_compiled(compiled))
    return catalog


def _newest_document_key() -> tuple[int, str] | None:
    from explorer.models import OpenAPIDocument

    try:
        row = OpenAPIDocument.objects.order_by("-id").values_list("id", "sha256").first()
    except DatabaseError:  # no table yet (before migrate): the bundled catalogue still works
        logger.warning("openapi_cache_unavailable")
        return None
    return row


def get_catalog(installation_or_none: Any = None) -> Catalog:
    """The active catalogue. One document serves every installation today; the argument lets a
    per-region or per-plan document be introduced without changing callers."""
    key = _newest_document_key()
    if key is None:
        return bundled_catalog()
    if _active["key"] == key:
        return _active["catalog"]
    from explorer.models import OpenAPIDocument

    with _lock:
        if _active["key"] == key:
            return _active["catalog"]
        row = OpenAPIDocument.objects.filter(pk=key[0]).values("compiled", "source", "sha256").first()
        if row is None:  # replaced between the two queries: the next call picks the newer one
            return bundled_catalog()
        catalog = Catalog.from_compiled(row["compiled"], source=row["source"], sha256=row["sha256"])
        _active.update(key=key, catalog=catalog)
        return catalog


def clear_catalog_cache() -> None:
    with _lock:
        _active.update(key=None, catalog=None)
