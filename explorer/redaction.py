"""The explorer never hands out a token: what it shows and what its call log keeps is redacted.

Some Clockify answers carry tokens (an add-on's webhooks with their ``authToken``, a webhook's new
token, the user-token exchange); run with the installation token, they would give any admin (or,
through the call log, anyone reading it) credentials of the installation. Values of token-like
fields (``authToken``, ``*Token``, ``*Secret``, ``password``, ``apiKey``) are replaced, and
JWT-shaped strings anywhere are scrubbed (``addons.redaction``).
"""

from __future__ import annotations

import json
from typing import Any

from addons.logging import JWT_RE, REDACTED
from addons.redaction import redact_credentials


def redact_body(raw: bytes, content_type: str) -> tuple[bytes, Any]:
    """A response body made safe to show and keep: ``(bytes, parsed JSON or None)``.

    JSON is parsed whole (before any truncation, so a field cut in half is still recognised),
    redacted and serialised again; anything else is text with JWT-shaped strings scrubbed.
    """
    if not raw:
        return raw, None
    if "json" in content_type or raw[:1] in (b"{", b"["):
        try:
            parsed = json.loads(raw)
        except (ValueError, RecursionError):
            pass
        else:
            redacted = redact_credentials(parsed)
            if redacted == parsed:  # nothing to hide: the bytes as Clockify sent them
                return raw, parsed
            return json.dumps(redacted, ensure_ascii=False, separators=(",", ":")).encode(), redacted
    text = raw.decode(errors="replace")
    scrubbed = JWT_RE.sub(REDACTED, text)
    return (raw if scrubbed == text else scrubbed.encode()), None
