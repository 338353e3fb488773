"""Lifecycle payloads: parsing and validation of Clockify's lifecycle bodies.

Kept apart from the views so that the views only translate outcomes into HTTP.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


class PayloadError(ValueError):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


LIFECYCLE_REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "INSTALLED": ("addonId", "authToken", "workspaceId"),
    "DELETED": ("addonId", "workspaceId"),
    "SETTINGS_UPDATED": ("workspaceId", "settings"),
    "STATUS_CHANGED": ("workspaceId", "status"),
}


@dataclass(frozen=True)
class LifecyclePayload:
    lifecycle_type: str
    body: dict[str, Any]

    @property
    def workspace_id(self) -> str:
        return str(self.body["workspaceId"])

    @property
    def addon_id(self) -> str | None:
        value = self.body.get("addonId")
        return str(value) if value is not None else None


def parse_lifecycle_body(lifecycle_type: str, raw: bytes) -> LifecyclePayload:
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise PayloadError("body is not valid JSON") from None
    except RecursionError:  # absurdly deep nesting: not a lifecycle body
        raise PayloadError("body is nested too deeply") from None
    if not isinstance(body, dict):
        raise PayloadError("body must be a JSON object")
    missing = [f for f in LIFECYCLE_REQUIRED_FIELDS[lifecycle_type] if body.get(f) in (None, "")]
    if missing:
        raise PayloadError(f"missing fields: {', '.join(missing)}")
    for field_name in ("workspaceId", "addonId", "authToken", "asUser", "apiUrl", "addonUserId", "status"):
        if field_name in body and body[field_name] is not None and not isinstance(body[field_name], str):
            raise PayloadError(f"{field_name} must be a string")
    if lifecycle_type == "INSTALLED":
        hooks = body.get("webhooks") or []
        if not isinstance(hooks, list) or not all(
            isinstance(h, dict) and isinstance(h.get("path"), str) and isinstance(h.get("authToken"), str)
            and h.get("path") and h.get("authToken")
            for h in hooks
        ):
            raise PayloadError("webhooks must be a list of {path, webhookType, authToken}")
    if lifecycle_type == "SETTINGS_UPDATED":
        items = body.get("settings")
        if not isinstance(items, list):  # each item is checked on its own (services.parse_settings)
            raise PayloadError("settings must be a list of {id, name, value}")
    return LifecyclePayload(lifecycle_type=lifecycle_type, body=body)
