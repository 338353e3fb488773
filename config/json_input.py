"""The one JSON parser of the pages' JSON API (DRF) and XHRs, with bounds (issue 15).

Webhooks and lifecycle calls keep their own parsers (they answer Clockify and custom senders,
and keep what they can store); everything a page or its scripts send comes through here:

- size: at most ``API_JSON_MAX_BYTES`` (413 above);
- encoding: strict UTF-8 (JSON's only encoding);
- depth: at most ``API_JSON_MAX_DEPTH`` nested arrays/objects (the standard parser recurses and
  raises ``RecursionError`` near Python's recursion limit, which used to become a 500);
- strings and keys: no NUL (PostgreSQL text and jsonb cannot hold it) and no lone surrogates
  (not encodable as UTF-8);
- numbers: finite, at most ``MAX_NUMBER_CHARS`` characters (``1e999999`` is infinity to Python
  and an error to PostgreSQL); ``NaN`` and ``Infinity`` are not JSON.

Every refusal is a ``JSONInputError`` with a reason code and a sentence saying what was wrong.
"""

from __future__ import annotations

import json
import math
from typing import Any

from django.conf import settings
from rest_framework import exceptions, parsers, status

MAX_NUMBER_CHARS = 100


class JSONInputError(ValueError):
    def __init__(self, reason: str, detail: str, status_code: int = 400) -> None:
        super().__init__(detail)
        self.reason, self.detail, self.status_code = reason, detail, status_code


def max_bytes() -> int:
    return int(getattr(settings, "API_JSON_MAX_BYTES", 1024 * 1024))


def max_depth() -> int:
    return int(getattr(settings, "API_JSON_MAX_DEPTH", 64))


def _number_text(text: str) -> None:
    if len(text) > MAX_NUMBER_CHARS:
        raise JSONInputError("bad_number", f"number too long (more than {MAX_NUMBER_CHARS} characters)")


def _parse_int(text: str) -> int:
    _number_text(text)
    return int(text)


def _parse_float(text: str) -> float:
    _number_text(text)
    value = float(text)
    if not math.isfinite(value):
        raise JSONInputError("bad_number", f"number out of range: {text[:40]}")
    return value


def _reject_constant(name: str) -> Any:
    raise JSONInputError("bad_json", f"{name} is not JSON")


def _check_text(text: str) -> None:
    if "\x00" in text:
        raise JSONInputError("nul_character", "a string holds a NUL character (\\u0000), which cannot be stored")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise JSONInputError("lone_surrogate", "a string holds a lone surrogate (\\ud800-\\udfff escape)") from None


def _check_tree(value: Any, *, limit: int, strings: bool) -> None:
    """Depth of ``value`` within ``limit``; with ``strings``, every string and key checked too."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        if isinstance(current, dict):
            if depth > limit:
                raise JSONInputError("too_deep", f"JSON nested deeper than {limit} levels")
            for key, item in current.items():
                if strings:
                    _check_text(key)
                stack.append((item, depth + 1))
        elif isinstance(current, list):
            if depth > limit:
                raise JSONInputError("too_deep", f"JSON nested deeper than {limit} levels")
            stack.extend((item, depth + 1) for item in current)
        elif strings and isinstance(current, str):
            _check_text(current)


def parse_json_bytes(raw: bytes) -> Any:
    """The JSON value of ``raw`` within the bounds above, or ``JSONInputError``."""
    limit = max_bytes()
    if len(raw) > limit:
        raise JSONInputError("too_large", f"body over {limit} bytes", status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise JSONInputError("bad_encoding", "body is not valid UTF-8") from None
    depth = max_depth()
    try:
        value = json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_reject_constant)
    except JSONInputError:
        raise
    except RecursionError:
        raise JSONInputError("too_deep", f"JSON nested deeper than {depth} levels") from None
    except ValueError as exc:
        raise JSONInputError("bad_json", f"body is not valid JSON: {str(exc)[:120]}") from None
    # NUL and surrogates can only arrive as \u escapes (raw control characters are invalid JSON and
    # strict UTF-8 has no surrogates); depth can only exceed the limit with that many brackets.
    escapes = "\\u" in text
    if escapes or text.count("[") + text.count("{") > depth:
        _check_tree(value, limit=depth, strings=escapes)
    return value


def request_json(request, *, empty: Any = None) -> Any:
    """The JSON body of a plain Django view (the pages' XHRs); ``empty`` for a request without one."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > max_bytes():  # refused before reading
        raise JSONInputError("too_large", f"body over {max_bytes()} bytes", status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    raw = request.body
    return parse_json_bytes(raw) if raw else empty


class TooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "body too large"
    default_code = "too_large"


class BoundedJSONParser(parsers.JSONParser):
    """DRF's JSON parser (``REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]``) through ``parse_json_bytes``."""

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        raw = stream.read(max_bytes() + 1) if stream is not None else b""
        try:
            return parse_json_bytes(raw)
        except JSONInputError as exc:
            if exc.status_code == status.HTTP_413_REQUEST_ENTITY_TOO_LARGE:
                raise TooLarge(exc.detail) from None
            raise exceptions.ParseError(exc.detail) from None
