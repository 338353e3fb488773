"""Credentials inside data we show: which field names hold one, and a redacted copy of a value.

Shared by the explorer (Clockify's answers: ``authToken`` of webhooks, new webhook tokens) and
the flows API and pages (what readers see of http actions). Logs have their own filter
(``addons.logging``), which also masks personal fields.
"""

from __future__ import annotations

import re
from typing import Any

from addons.logging import JWT_RE, REDACTED

# Field names (lower-cased, letters and digits only) that end like these hold a credential:
# authToken, apiToken, client_secret, x-api-key, password, Authorization, ...; "tokens" does not.
_CREDENTIAL_ENDINGS = (
    "token", "secret", "password", "passwd", "pwd", "apikey", "accesskey", "privatekey", "signature",
    "credential", "credentials", "authorization", "cookie",
)
_NON_ALNUM = re.compile(r"[^a-z0-9]")


def is_credential_key(name: str) -> bool:
    return _NON_ALNUM.sub("", name.lower()).endswith(_CREDENTIAL_ENDINGS)


def redact_credentials(value: Any, key: str = "") -> Any:
    """A copy of ``value`` with credential-named fields replaced and JWT-shaped strings scrubbed."""
    if key and is_credential_key(key) and value is not None and not isinstance(value, bool):
        return REDACTED
    if isinstance(value, dict):
        return {k: redact_credentials(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_credentials(v) for v in value]
    if isinstance(value, str):
        return JWT_RE.sub(REDACTED, value)
    return value
