"""Validating a manifest the way Clockify does: against the schema of the version it declares.

The schemas are bundled (``addons/schemas``, Clockify's own SDK files) so the check runs on a
fresh clone and offline; ``fetch_live_schema`` asks Clockify for the schema it serves now
(``CLOCKIFY_MANIFEST_SCHEMA_URL``), for ``manage.py check_manifests --live``.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import requests
from django.conf import settings

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
BUNDLED_VERSIONS = ("1.2", "1.3", "1.4")
LIVE_FETCH_TIMEOUT_SECONDS = 10.0
LIVE_MAX_BYTES = 1024 * 1024


class SchemaUnavailable(Exception):
    """The schema of that version could not be had (unknown version, network, bad answer)."""


@lru_cache(maxsize=8)
def _bundled_text(version: str) -> str:
    if version not in BUNDLED_VERSIONS:
        raise SchemaUnavailable(f"no bundled manifest schema {version!r} (have {', '.join(BUNDLED_VERSIONS)})")
    return (SCHEMA_DIR / f"manifest-schema-{version}.json").read_text()


def bundled_schema(version: str) -> dict[str, Any]:
    return json.loads(_bundled_text(str(version)))


def validate(manifest: dict[str, Any], schema: dict[str, Any] | None = None) -> list[str]:
    """Every error, as ``"<json path>: <message>"``, against ``schema`` (default: the bundled schema
    of the manifest's ``schemaVersion``). An empty list means Clockify would accept it."""
    if schema is None:
        version = manifest.get("schemaVersion")
        if version is None:
            return ["schemaVersion: missing (Clockify would validate against its latest schema)"]
        try:
            schema = bundled_schema(str(version))
        except SchemaUnavailable as exc:
            return [f"schemaVersion: {exc}"]
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in validator.iter_errors(manifest)]
    return sorted(errors)


def live_schema_url(version: str) -> str:
    return settings.CLOCKIFY_MANIFEST_SCHEMA_URL.format(version=version)


def fetch_live_schema(version: str) -> dict[str, Any]:
    """The schema Clockify serves for ``version``; ``SchemaUnavailable`` when it cannot be fetched."""
    url = live_schema_url(version)
    try:
        with requests.get(url, timeout=LIVE_FETCH_TIMEOUT_SECONDS, stream=True, allow_redirects=False,
                          headers={"Accept": "application/json"}) as response:
            if response.status_code != 200:
                raise SchemaUnavailable(f"{url} answered HTTP {response.status_code}")
            raw = response.raw.read(LIVE_MAX_BYTES + 1, decode_content=True)
    except requests.RequestException as exc:
        raise SchemaUnavailable(f"{url} could not be fetched ({type(exc).__name__})") from None
    if len(raw) > LIVE_MAX_BYTES:
        raise SchemaUnavailable(f"{url} sent more than {LIVE_MAX_BYTES} bytes")
    try:
        schema = json.loads(raw)
    except ValueError:
        raise SchemaUnavailable(f"{url} did not send JSON") from None
    if not isinstance(schema, dict) or "properties" not in schema:
        raise SchemaUnavailable(f"{url} did not send a JSON schema")
    return schema
