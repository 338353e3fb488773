"""Ids derived from an event body, without per-event code.

``addons.catalog`` names the entity type each event carries; bodies name that entity ``id`` or
``<singular>Id`` (``expenseId``, ``assignmentId``). Anything absent stays empty.
"""

from __future__ import annotations

from typing import Any

from addons.catalog import EVENTS

_SINGULAR = {
    "time-entries": "timeEntry", "projects": "project", "tasks": "task", "clients": "client", "tags": "tag",
    "users": "user", "user-groups": "userGroup", "invoices": "invoice", "expenses": "expense",
    "approval-requests": "approvalRequest", "time-off-requests": "timeOffRequest", "balances": "balance",
    "assignments": "assignment",
}


def _id(value: Any) -> str:
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        text = str(value)
        return text if len(text) <= 64 else ""
    return ""


def _nested(body: dict, key: str, inner: str) -> str:
    value = body.get(key)
    return _id(value.get(inner)) if isinstance(value, dict) else ""


def derive_ids(event_type: str, payload: Any, *, default_workspace_id: str = "") -> dict[str, str]:
    """``workspace_id``, ``user_id``, ``entity_id``, ``project_id`` of a body (empty when absent)."""
    ids = {"workspace_id": default_workspace_id, "user_id": "", "entity_id": "", "project_id": ""}
    if not isinstance(payload, dict):
        return ids
    spec = EVENTS.get(event_type)
    entity_type = spec.entity_type if spec else ""
    singular = _SINGULAR.get(entity_type, "")
    ids["workspace_id"] = _id(payload.get("workspaceId")) or default_workspace_id
    ids["entity_id"] = _id(payload.get("id")) or (_id(payload.get(f"{singular}Id")) if singular else "")
    if not ids["entity_id"] and entity_type == "users":  # rate events name the member that changed
        ids["entity_id"] = _nested(payload, "modifiedEntity", "userId")
    ids["user_id"] = (
        (ids["entity_id"] if entity_type == "users" else "")
        or _id(payload.get("userId"))
        or _nested(payload, "user", "id")
        or _nested(payload, "owner", "userId")
        or _id(payload.get("requesterUserId"))
    )
    ids["project_id"] = (
        (ids["entity_id"] if entity_type == "projects" else "")
        or _id(payload.get("projectId"))
        or _nested(payload, "project", "id")
    )
    return ids
