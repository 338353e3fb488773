"""Storing an incoming event: one statement that dedupes, reads the installation's status and inserts.

The hot path (DESIGN.md section 5) acknowledges in milliseconds, so an accepted event costs one
INSERT ... SELECT: the installation's status is read in the same statement (deleted -> nothing
stored; inactive -> stored as ``skipped``), the unique (installation, dedupe_key) index rejects a
duplicate in the current window, and ``NOT EXISTS`` catches one from the previous window (a
duplicate straddling a bucket boundary). Processing is enqueued after commit.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from config.db import fetchone_prepared
from installations.models import Installation, InstallationStatus
from webhooks.dispatch import enqueue_process_event
from webhooks.models import EventStatus, WebhookEvent

logger = logging.getLogger("webhooks.ingest")

# Header names (lower case) whose values are credentials: never stored.
_SECRET_HEADER_MARKERS = ("signature", "token", "secret", "authorization", "cookie", "api-key", "apikey")


class PayloadError(ValueError):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class ParsedBody:
    text: str  # the raw body, as stored
    payload: Any
    payload_json: str  # what the JSON column receives (the raw text unless it had to be cleaned)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _parse_float(text: str) -> float:
    # PostgreSQL's numeric (inside jsonb) refuses exponents beyond about +-16383; Python would
    # silently turn 1e999999 into inf. Refuse both as bad JSON rather than fail on insert.
    if abs(Decimal(text).adjusted()) > 16000:
        raise ValueError("number out of range")
    return float(text)


def _clean(value: Any) -> Any:
    """Strip what PostgreSQL's jsonb refuses (NUL, lone surrogates) from strings."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    return value


def parse_body(raw: bytes, *, require_object: bool) -> ParsedBody:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise PayloadError("bad_encoding", "body is not UTF-8") from None
    try:
        payload = json.loads(text, parse_constant=_reject_constant, parse_float=_parse_float)
    except ValueError:
        raise PayloadError("bad_json", "body is not valid JSON") from None
    except RecursionError:
        raise PayloadError("bad_json", "body is nested too deeply") from None
    if require_object and not isinstance(payload, dict):
        raise PayloadError("bad_json", "body must be a JSON object")
    payload_json = text
    if "\\u" in text:  # escapes may hide NULs or lone surrogates: re-serialise a cleaned copy
        try:
            payload = _clean(payload)
            payload_json = json.dumps(payload, ensure_ascii=False)
        except RecursionError:
            raise PayloadError("bad_json", "body is nested too deeply") from None
    return ParsedBody(text=text, payload=payload, payload_json=payload_json)


def safe_headers(headers: Any) -> dict[str, str]:
    return {
        name.lower(): value
        for name, value in headers.items()
        if not any(marker in name.lower() for marker in _SECRET_HEADER_MARKERS)
    }


def window_dedupe_keys(*parts: str, body: bytes, now: float | None = None) -> tuple[str, str]:
    """Keys for this dedupe window and the previous one (sha256 of the parts, window and body)."""
    window = max(settings.WEBHOOK_DEDUPE_WINDOW_SECONDS, 1)
    bucket = int((now if now is not None else time.time()) // window)

    def key(b: int) -> str:
        digest = hashlib.sha256("\n".join((*parts, str(b), "")).encode())
        digest.update(body)
        return digest.hexdigest()

    return key(bucket), key(bucket - 1)


def id_dedupe_key(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


class StoreOutcome(str, Enum):
    ACCEPTED = "accepted"
    SKIPPED = "skipped"  # inactive installation: stored, not processed
    DUPLICATE = "duplicate"
    GONE = "gone"  # the installation was deleted


@dataclass(frozen=True)
class StoreResult:
    outcome: StoreOutcome
    event_id: int | None = None


_COLUMNS = (
    "source", "custom_source_id", "event_type", "received_at", "headers", "raw_body", "payload",
    "workspace_id", "user_id", "entity_id", "project_id", "dedupe_key",
)
_PG_CASTS = {"custom_source_id": "bigint", "received_at": "timestamptz", "headers": "jsonb", "payload": "jsonb"}


def _insert_sql(with_previous_key: bool) -> str:
    return _build_insert_sql(_vendor(), with_previous_key)


@lru_cache(maxsize=1)
def _vendor() -> str:
    return connection.vendor  # fixed for the life of the process; the proxy lookup is not free


@lru_cache(maxsize=8)
def _build_insert_sql(vendor: str, with_previous_key: bool) -> str:
    pg = vendor == "postgresql"
    table = WebhookEvent._meta.db_table
    inst_table = Installation._meta.db_table
    values = ", ".join(f"%s::{_PG_CASTS[c]}" if pg and c in _PG_CASTS else "%s" for c in _COLUMNS)
    previous = (
        f" AND NOT EXISTS (SELECT 1 FROM {table} p WHERE p.installation_id = i.id AND p.dedupe_key = %s"
        f" AND p.received_at > %s{'::timestamptz' if pg else ''})"
        if with_previous_key else ""
    )
    # The statuses are code constants, written into the statement (fewer parameters to bind).
    literal = {name: _sql_word(value) for name, value in (
        ("inactive", InstallationStatus.INACTIVE), ("deleted", InstallationStatus.DELETED),
        ("skipped", EventStatus.SKIPPED), ("received", EventStatus.RECEIVED))}
    return (
        f"INSERT INTO {table} (installation_id, status, {', '.join(_COLUMNS)}, attempts, error) "
        f"SELECT i.id, CASE WHEN i.status = {literal['inactive']} THEN {literal['skipped']} "
        f"ELSE {literal['received']} END, {values}, 0, '' "
        f"FROM {inst_table} i WHERE i.id = %s AND i.status <> {literal['deleted']}{previous} "
        f"ON CONFLICT DO NOTHING RETURNING id, status"
    )


def _sql_word(value: str) -> str:
    if not str(value).isidentifier():  # only plain words are written into SQL, never data
        raise ValueError(f"not a plain word: {value!r}")
    return f"'{value}'"


def webhook_event_store(
    *,
    installation_id: int,
    source: str,
    event_type: str,
    headers: dict[str, str],
    body: ParsedBody,
    ids: dict[str, str],
    dedupe_key: str,
    previous_dedupe_key: str | None = None,
    custom_source_id: int | None = None,
    received_at: datetime | None = None,
) -> StoreResult:
    """Store an incoming event once and enqueue its processing; see the module docstring."""
    received_at = received_at or timezone.now()
    row = {
        "source": source, "custom_source_id": custom_source_id, "event_type": event_type,
        "received_at": received_at, "headers": json.dumps(headers), "raw_body": body.text,
        "payload": body.payload_json, "workspace_id": ids.get("workspace_id", ""),
        "user_id": ids.get("user_id", ""), "entity_id": ids.get("entity_id", ""),
        "project_id": ids.get("project_id", ""), "dedupe_key": dedupe_key,
    }
    params: list[Any] = [row[c] for c in _COLUMNS]
    params.append(installation_id)
    if previous_dedupe_key:
        window = timedelta(seconds=settings.WEBHOOK_DEDUPE_WINDOW_SECONDS)
        params += [previous_dedupe_key, received_at - window]
    inserted = fetchone_prepared(_insert_sql(bool(previous_dedupe_key)), params)
    if inserted is None:
        gone = not Installation.objects.filter(pk=installation_id).exclude(status=InstallationStatus.DELETED).exists()
        return StoreResult(StoreOutcome.GONE if gone else StoreOutcome.DUPLICATE)
    event_id, status = inserted
    if status == EventStatus.SKIPPED:
        return StoreResult(StoreOutcome.SKIPPED, event_id)
    enqueue_process_event(event_id)
    return StoreResult(StoreOutcome.ACCEPTED, event_id)
