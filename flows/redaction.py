"""What of a flow may be shown to whom.

- Readers (every workspace role but OWNER, WORKSPACE_ADMIN and ADMIN) see what a flow does, not
  the credentials written into its http actions: header values, the URL's path and query values
  (a Slack hook path, ``?api_key=``), credential-named body fields (``addons.redaction``).
  ``action_for_reader`` is the one view of an action for them, in the API and the pages alike.
- Flow secrets (``{{secrets.NAME}}``) are shown to nobody: ``mask_secrets`` replaces their values
  in what a run records (the request summary, the response, the error) with ``[secret NAME]``.
"""

from __future__ import annotations

from typing import Any, Mapping
from urllib.parse import parse_qsl, urlsplit

from addons.logging import REDACTED
from addons.redaction import redact_credentials

_SENSITIVE_HEADER_PARTS = ("authorization", "token", "secret", "key", "signature", "cookie", "password")


def redact_headers(headers: dict[str, Any]) -> dict[str, Any]:
    """Credential-looking header values masked (run records; admins see the rest)."""
    return {k: (REDACTED if any(part in k.lower() for part in _SENSITIVE_HEADER_PARTS) else v)
            for k, v in headers.items()}


def _url_for_reader(url: str) -> str:
    try:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"
        query = parse_qsl(parts.query, keep_blank_values=True)
    except ValueError:
        return REDACTED
    shown = origin + (f"/{REDACTED}" if parts.path.strip("/") else parts.path)
    if query:
        shown += "?" + "&".join(f"{name}={REDACTED}" for name, _ in query)
    return shown


def action_for_reader(action: Any) -> Any:
    """An action as a reader may see it: http actions keep where they go, not how they authenticate."""
    if not isinstance(action, dict) or action.get("type") != "http":
        return action
    shown = dict(action)
    if isinstance(shown.get("url"), str):
        shown["url"] = _url_for_reader(shown["url"])
    if isinstance(shown.get("headers"), dict):
        shown["headers"] = {name: REDACTED for name in shown["headers"]}
    if "body" in shown:
        shown["body"] = redact_credentials(shown["body"])
    return shown


def actions_for(actions: Any, *, admin: bool) -> Any:
    if admin or not isinstance(actions, list):
        return actions
    return [action_for_reader(a) for a in actions]


def mask_secrets(value: Any, secrets: Mapping[str, str]) -> Any:
    """``value`` (any JSON value) with every secret value replaced by ``[secret NAME]``."""
    if not secrets:
        return value
    if isinstance(value, str):
        for name, secret in secrets.items():
            if secret and secret in value:
                value = value.replace(secret, f"[secret {name}]")
        return value
    if isinstance(value, dict):
        return {mask_secrets(k, secrets): mask_secrets(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_secrets(v, secrets) for v in value]
    return value
