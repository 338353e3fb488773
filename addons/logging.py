"""Structured JSON logs, and the one redaction filter every handler uses.

Tokens, secrets and personal fields (emails, names, descriptions) never reach a log line:
the filter masks them in ``extra`` fields and scrubs JWT-shaped strings and secret-named
query parameters from messages. A request (Django puts one on every 4xx/5xx record) is written
as its method and path only: its query string carries the iframe's ``auth_token``. Any other
object is written as its scrubbed text, never as whatever its ``repr`` holds.
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
JWT_RE = regex.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
# ?auth_token=..., &api_key=..., &X-Amz-Signature=... in a URL or request line.
_SECRET_PARAM_RE = regex.compile(
    r"(?i)([?&;](?:[a-z0-9_.-]*(?:token|secret|password|passwd|signature|key|code|auth)[a-z0-9_.-]*)=)[^&;#\s\"']*"
)
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


def _is_request(value: Any) -> bool:
    from django.http import HttpRequest

    return isinstance(value, HttpRequest)


def loggable(value: Any) -> Any:
    """A JSON-native stand-in for an object: a request's method and path, else scrubbed text."""
    if _is_request(value):
        return {"method": value.method, "path": value.path}
    return scrub_text(str(value))


def redact_value(key: str, value: Any) -> Any:
    if key.lower() in SENSITIVE_KEYS:
        return REDACTED
    if isinstance(value, dict):
        return {k: redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_value("", v) for v in value]
    if isinstance(value, str):
        return scrub_text(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return loggable(value)


def scrub_text(text: str) -> str:
    try:
        text = JWT_RE.sub(REDACTED, text, timeout=_SCRUB_TIMEOUT_SECONDS)
        text = _SECRET_PARAM_RE.sub(rf"\1{REDACTED}", text, timeout=_SCRUB_TIMEOUT_SECONDS)
        return _EMAIL_RE.sub(REDACTED, text, timeout=_SCRUB_TIMEOUT_SECONDS)
    except TimeoutError:
        return REDACTED


def _message_arg(value: Any) -> Any:
    # Numbers stay numbers (%d); everything else becomes scrubbed text before %-formatting.
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if _is_request(value):
        return value.path
    return scrub_text(value if isinstance(value, str) else str(value))


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            if isinstance(record.args, tuple):
                args: Any = tuple(_message_arg(a) for a in record.args)
            else:  # a single mapping argument (%(name)s formatting)
                args = redact_value("", record.args)
            try:  # scrubbed once formatted: a secret may span the template and an argument
                record.msg, record.args = scrub_text(str(record.msg) % args), None
            except (TypeError, ValueError, KeyError):  # a broken call: logging reports it as usual
                record.msg, record.args = scrub_text(str(record.msg)), args
        elif isinstance(record.msg, str):
            record.msg = scrub_text(record.msg)
        else:
            record.msg = loggable(record.msg)
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
            "msg": scrub_text(record.getMessage()),
        }
        payload.update(_LOG_CONTEXT.get())
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exc"] = scrub_text(self.formatException(record.exc_info))
        return json.dumps(payload, default=loggable)
