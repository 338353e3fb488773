"""Reading an OpenAPI document from ``CLOCKIFY_OPENAPI_SOURCE``: a file path, ``file://`` or http(s) URL."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import requests
from django.conf import settings

from explorer.catalog.compiler import CatalogError

BUNDLED_PATH = Path(__file__).resolve().parent.parent / "openapi" / "clockify-core.yaml"
BUNDLED_SOURCE = "bundled:clockify-core.yaml"
MAX_DOCUMENT_BYTES = 32 * 1024 * 1024
FETCH_TIMEOUT_SECONDS = 30


def configured_source() -> str:
    """The document to sync (default: Clockify's published one), or "" for the bundled catalogue only."""
    source = (getattr(settings, "CLOCKIFY_OPENAPI_SOURCE", "") or "").strip()
    return "" if source.lower() in ("bundled", BUNDLED_SOURCE) else source


def read_source(source: str) -> bytes:
    """The raw document. ``source`` is operator configuration, not user input."""
    if not source or source == BUNDLED_SOURCE:
        return BUNDLED_PATH.read_bytes()
    scheme = urlsplit(source).scheme.lower()
    if scheme in ("http", "https"):
        try:
            with requests.get(source, timeout=FETCH_TIMEOUT_SECONDS, stream=True,
                              headers={"Accept": "application/json, application/yaml, text/yaml, */*"}) as resp:
                if resp.status_code != 200:
                    raise CatalogError(f"fetching the document answered HTTP {resp.status_code}")
                chunks, size = [], 0
                for chunk in resp.iter_content(64 * 1024):
                    size += len(chunk)
                    if size > MAX_DOCUMENT_BYTES:
                        raise CatalogError("the document is larger than the size cap")
                    chunks.append(chunk)
                return b"".join(chunks)
        except requests.RequestException as exc:
            raise CatalogError(f"fetching the document failed: {type(exc).__name__}") from None
    if scheme == "file":
        source = urlsplit(source).path
    elif scheme and len(scheme) > 1:  # a one-letter scheme is a Windows drive letter
        raise CatalogError(f"unsupported source scheme {scheme!r} (use a file path or an http(s) URL)")
    path = Path(source)
    try:
        if path.stat().st_size > MAX_DOCUMENT_BYTES:
            raise CatalogError("the document is larger than the size cap")
        return path.read_bytes()
    except OSError as exc:
        raise CatalogError(f"cannot read {path}: {exc.strerror or type(exc).__name__}") from None
