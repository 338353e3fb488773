"""Structured JSON logs, and the one redaction filter every handler uses.

Tokens, secrets and personal fields (emails, names, descriptions) never reach a log line:
the filter masks them in ``extra`` fields and scrubs JWT-shaped strings from messages.
"""

from __future__ import annotations

import contextvars
import json
import logging
from datetime import datetime, timezone
from typing import Any

import regex

REDACTED = "[redacted]"
SENSITIVE_KEYS = frozenset(
    {
        "token", "authtoken", "auth_token", "x-addon-token", "x_addon_token", "clockify-signature",
        "x-addon-lifecycle-token", "authorization", "secret", "password", "api_key", "apikey",
        "email", "name", "description", "note", "signature", "webhook-signature", "x-signature",
        "cookie", "set-cookie",
    }
)
# Logged text may carry user data built to make these backtrack: each pass has a time bound
# (the regex package's timeout) and a string that exceeds it is redacted whole (fail closed).
_JWT_RE = regex.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
_EMAIL_RE = regex.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}")
_SCRUB_TIMEOUT_SECONDS = 0.05
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


# Per-request / per-task fields (request_id, variant, workspace_id, event_type, flow_id) added
# to every line logged while they are bound.
_LOG_CONTEXT: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("log_context", default={})


def bind_log_context(**fields: Any) -> None:
    _LOG_CONTEXT.set({**_LOG_CONTEXT.get(), **{k: v for k, v in fields.items() if v is not None}})


def clear_log_context() -> None:
    _LOG_CONTEXT.set({})


def current_log_context() -> dict[str, Any]:
    return dict(_LOG_CONTEXT.get())


def redact_value(key: str, value: Any) -> Any:
    if key.lower() in SENSITIVE_KEYS:
        return REDACTED
    if isinstance(value, dict):
        return {k: redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_value("", v) for v in value]
    if isinstance(value, str):
        return scrub_text(value)
    return value


def scrub_text(text: str) -> str:
    try:
        return _EMAIL_RE.sub(REDACTED, _JWT_RE.sub(REDACTED, text, timeout=_SCRUB_TIMEOUT_SECONDS),
                             timeout=_SCRUB_TIMEOUT_SECONDS)
    except TimeoutError:
        return REDACTED


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = scrub_text(record.msg)
        if record.args:
            record.args = tuple(redact_value("", a) for a in record.args) if isinstance(record.args, tuple) else \
                redact_value("", record.args)
        for key, value in list(vars(record).items()):
            if key not in _STANDARD_ATTRS:
                setattr(record, key, redact_value(key, value))
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, tz=timezone.utc).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        payload.update(_LOG_CONTEXT.get())
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exc"] = scrub_text(self.formatException(record.exc_info))
        return json.dumps(payload, default=str)
