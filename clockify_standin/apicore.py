"""Shared pieces of the stand-in's endpoints: request/response types, errors, pagination, filters."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from clockify_standin import data as d
from clockify_standin.data import WorkspaceData

MAX_PAGE_SIZE = 5000
DEFAULT_PAGE_SIZE = 50
# Collections directly under /v1/workspaces/{ws}/<segment>: segment -> entity type.
SIMPLE_COLLECTIONS = {
    "users": "users", "clients": "clients", "projects": "projects", "tags": "tags",
    "custom-fields": "custom-fields", "user-groups": "user-groups", "holidays": "holidays",
    "expenses": "expenses", "time-entries": "time-entries",
}
# Lists Clockify answers whole: no page/page-size parameters, no Last-Page header (OpenAPI:
# ofWorkspace, getHolidays).
UNPAGED_COLLECTIONS = frozenset({"custom-fields", "holidays"})
# Query parameters the OpenAPI document marks required, by collection (answered 400 when missing).
REQUIRED_QUERY = {"users": ("include-roles",)}
# Types whose names Clockify keeps unique within a workspace.
UNIQUE_NAMES = {"clients", "projects", "tags", "user-groups"}
READ_ONLY_FIELDS = {"id", "workspaceId"}


@dataclass
class ApiResponse:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class ApiError(Exception):
    def __init__(self, status: int, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code if code is not None else ERROR_CODES.get(status, status)

    def response(self) -> ApiResponse:
        return ApiResponse(self.status, {"message": self.message, "code": self.code})


# Clockify answers errors as {"message", "code"}; these codes mirror the ones it commonly sends.
ERROR_CODES = {400: 501, 401: 1000, 403: 1003, 404: 501, 405: 405, 429: 1015, 500: 500, 503: 503}


@dataclass
class Request:
    method: str
    segments: list[str]  # path segments after /api
    query: dict[str, str]
    body: Any
    workspace: WorkspaceData | None
    claims: dict[str, Any]


# --- helpers ----------------------------------------------------------------------------------

def paginate(items: list[dict[str, Any]], query: dict[str, str]) -> ApiResponse:
    try:
        page = int(query.get("page", "1"))
        page_size = int(query.get("page-size", str(DEFAULT_PAGE_SIZE)))
    except ValueError:
        raise ApiError(400, "page and page-size must be integers") from None
    if page < 1 or page_size < 1:
        raise ApiError(400, "page and page-size must be at least 1")
    page_size = min(page_size, MAX_PAGE_SIZE)
    start = (page - 1) * page_size
    chunk = items[start:start + page_size]
    last = start + page_size >= len(items)
    return ApiResponse(200, chunk, {"Last-Page": "true" if last else "false"})


def as_bool(value: str | None) -> bool | None:
    if value is None or value == "":
        return None
    return value.strip().lower() in ("true", "1", "yes")


def filter_items(items: list[dict[str, Any]], query: dict[str, str]) -> list[dict[str, Any]]:
    name = query.get("name")
    if name:
        needle = name.lower()
        strict = as_bool(query.get("strict-name-search"))
        items = [i for i in items if (i.get("name") or "").lower() == needle
                 or (not strict and needle in (i.get("name") or "").lower())]
    archived = as_bool(query.get("archived"))
    if archived is not None:
        items = [i for i in items if bool(i.get("archived")) == archived]
    if query.get("email"):
        needle = query["email"].lower()
        items = [i for i in items if needle in (i.get("email") or "").lower()]
    if query.get("status") and items and "status" in items[0] and isinstance(items[0]["status"], str):
        items = [i for i in items if i.get("status") == query["status"]]
    return items


def parse_time(value: Any, field_name: str) -> datetime:
    if not isinstance(value, str):
        raise ApiError(400, f"{field_name} must be an ISO-8601 date-time")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, f"{field_name} must be an ISO-8601 date-time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def body_object(req: Request) -> dict[str, Any]:
    if not isinstance(req.body, dict):
        raise ApiError(400, "request body must be a JSON object")
    return req.body


def get(ws: WorkspaceData, entity_type: str, entity_id: str) -> dict[str, Any]:
    obj = ws.entities[entity_type].get(entity_id)
    if obj is None:
        raise ApiError(404, f"{entity_type} {entity_id} doesn't belong to Workspace")
    return obj


def check_unique_name(ws: WorkspaceData, entity_type: str, name: str, *, exclude: str | None = None) -> None:
    if entity_type in UNIQUE_NAMES and any(
        o.get("name") == name and o["id"] != exclude for o in ws.entities[entity_type].values()
    ):
        raise ApiError(400, f"{entity_type[:-1].capitalize()} with name '{name}' already exists")


def filter_entries(items: list[dict[str, Any]], query: dict[str, str]) -> list[dict[str, Any]]:
    start = parse_time(query["start"], "start") if query.get("start") else None
    end = parse_time(query["end"], "end") if query.get("end") else None
    if start or end:
        lo, hi = d.iso(start) if start else "", d.iso(end) if end else "~"
        items = [i for i in items if lo <= i["timeInterval"]["start"] <= hi]
    in_progress = as_bool(query.get("in-progress"))
    if in_progress is not None:
        items = [i for i in items if (i["timeInterval"]["end"] is None) == in_progress]
    if query.get("project"):
        items = [i for i in items if i.get("projectId") == query["project"]]
    if query.get("description"):
        items = [i for i in items if query["description"].lower() in (i.get("description") or "").lower()]
    # Newest first, like Clockify.
    return sorted(items, key=lambda i: i["timeInterval"]["start"], reverse=True)
