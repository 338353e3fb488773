"""The stand-in's REST endpoints, at Clockify's own paths (relative to the backendUrl ``/api``).

Pure request -> response logic over ``WorkspaceData``; HTTP, tokens, rate limits and faults live
in ``clockify_standin.server``. Every handler returns an ``ApiResponse``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable

from clockify_standin import data as d
# The server reaches everything through this module (api.ApiError, api.dispatch, api.reports_dispatch).
from clockify_standin.apicore import (  # noqa: F401
    READ_ONLY_FIELDS, REQUIRED_QUERY, SIMPLE_COLLECTIONS, UNPAGED_COLLECTIONS, ApiError, ApiResponse, Request, as_bool, body_object, check_unique_name,
    filter_entries, filter_items, get, paginate, parse_time,
)
from clockify_standin.apiextra import addon_settings, hydrate_entries, reports_dispatch, stop_timer  # noqa: F401
from clockify_standin.apiwebhooks import addon_webhooks, webhook_item, webhooks_collection
from clockify_standin.data import WorkspaceData


# --- create / update / delete ---------------------------------------------------------------------

def _create(ws: WorkspaceData, entity_type: str, body: dict[str, Any], *, parent: str | None = None) -> dict[str, Any]:
    extra = {k: v for k, v in body.items() if k not in READ_ONLY_FIELDS}
    if entity_type == "users":
        email = extra.pop("email", None)
        if not isinstance(email, str) or "@" not in email:
            raise ApiError(400, "email is required")
        return d.build_user(ws, name=email.split("@")[0], email=email, status="PENDING_EMAIL_VERIFICATION")
    if entity_type == "time-entries":
        return _build_entry(ws, extra, user_id=parent or ws.owner_id)
    if entity_type == "expenses":
        return d.build_expense(ws, user_id=str(extra.pop("userId", ws.owner_id)),
                               project_id=str(extra.pop("projectId", "")), amount=float(extra.pop("amount", 0) or 0),
                               day=parse_time(extra.pop("date", d.iso(datetime.now(timezone.utc))), "date"), **extra)
    name = extra.pop("name", None)
    if not isinstance(name, str) or not name.strip():
        raise ApiError(400, "name is required")
    check_unique_name(ws, entity_type, name)
    if entity_type == "projects":
        client = ws.entities["clients"].get(str(extra.pop("clientId", "") or ""))
        return d.build_project(ws, name=name, client=client, **extra)
    if entity_type == "tasks":
        return d.build_task(ws, name=name, project_id=parent or "", **extra)
    if entity_type == "holidays":
        return d.build_holiday(ws, name=name, day=datetime.now(timezone.utc), **extra)
    if entity_type == "time-off-policies":
        return d.build_time_off_policy(ws, name=name, user_ids=list(extra.pop("userIds", []) or []), **extra)
    builder: Callable[..., dict[str, Any]] = {
        "clients": d.build_client, "tags": d.build_tag, "custom-fields": d.build_custom_field,
        "user-groups": d.build_user_group,
    }[entity_type]
    return builder(ws, name=name, **extra)


def _build_entry(ws: WorkspaceData, body: dict[str, Any], *, user_id: str) -> dict[str, Any]:
    if "start" not in body:
        raise ApiError(400, "start is required")
    start = parse_time(body.pop("start"), "start")
    end_raw = body.pop("end", None)
    end = parse_time(end_raw, "end") if end_raw else None
    if end is not None and end < start:
        raise ApiError(400, "end must not be before start")
    if user_id not in ws.entities["users"]:
        raise ApiError(404, f"user {user_id} doesn't belong to Workspace")
    return d.build_time_entry(
        ws, user_id=user_id, start=start, end=end, description=str(body.pop("description", "") or ""),
        project_id=body.pop("projectId", None), task_id=body.pop("taskId", None),
        tag_ids=list(body.pop("tagIds", None) or []), billable=bool(body.pop("billable", True)),
        **{k: v for k, v in body.items() if k in ("customFieldValues", "type")},
    )


def _update(ws: WorkspaceData, entity_type: str, obj: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    changes = {k: v for k, v in body.items() if k not in READ_ONLY_FIELDS}
    if "name" in changes:
        if not isinstance(changes["name"], str) or not changes["name"].strip():
            raise ApiError(400, "name must be a non-empty string")
        check_unique_name(ws, entity_type, changes["name"], exclude=obj["id"])
    if entity_type == "time-entries" and ("start" in changes or "end" in changes):
        start = parse_time(changes.pop("start", obj["timeInterval"]["start"]), "start")
        end_raw = changes.pop("end", obj["timeInterval"]["end"])
        end = parse_time(end_raw, "end") if end_raw else None
        if end is not None and end < start:
            raise ApiError(400, "end must not be before start")
        changes["timeInterval"] = d.time_interval(start, end)
    if entity_type == "projects" and "clientId" in changes:
        client = ws.entities["clients"].get(str(changes["clientId"] or ""))
        changes["clientName"] = client["name"] if client else ""
    with ws.lock:
        ws.index_remove(entity_type, obj)
        obj.update(changes)
        ws.index_add(entity_type, obj)
    return obj


def _delete(ws: WorkspaceData, entity_type: str, obj: dict[str, Any]) -> None:
    with ws.lock:
        ws.entities[entity_type].pop(obj["id"], None)
        ws.index_remove(entity_type, obj)


# --- generic collection and item handlers ------------------------------------------------------------


def collection(req: Request, entity_type: str, items: Callable[[], list[dict[str, Any]]],
               *, parent: str | None = None) -> ApiResponse:
    ws = req.workspace
    assert ws is not None
    if req.method == "GET":
        for name in REQUIRED_QUERY.get(entity_type, ()):
            if name not in req.query:
                raise ApiError(400, f"Required request parameter '{name}' is not present")
        with ws.lock:
            listed = items()
        listed = filter_items(listed, req.query)
        if entity_type == "time-entries":
            listed = filter_entries(listed, req.query)
        if entity_type in UNPAGED_COLLECTIONS:  # page parameters ignored, everything at once
            return ApiResponse(200, listed)
        page = paginate(listed, req.query)
        if entity_type == "expenses":  # Clockify wraps expenses in a counted envelope
            page.body = {"expenses": {"count": len(listed), "expenses": page.body}}
        return page
    if req.method == "POST":
        obj = _create(ws, entity_type, dict(body_object(req)), parent=parent)
        ws.add(entity_type, obj)
        return ApiResponse(201, obj)
    raise ApiError(405, f"{req.method} not allowed here")


def item(req: Request, entity_type: str, entity_id: str, *, parent_check: Callable[[dict], bool] | None = None) -> ApiResponse:
    ws = req.workspace
    assert ws is not None
    obj = get(ws, entity_type, entity_id)
    if parent_check is not None and not parent_check(obj):
        raise ApiError(404, f"{entity_type} {entity_id} doesn't belong to this parent")
    if req.method == "GET":
        return ApiResponse(200, obj)
    if req.method in ("PUT", "PATCH"):
        return ApiResponse(200, _update(ws, entity_type, obj, body_object(req)))
    if req.method == "DELETE":
        _delete(ws, entity_type, obj)
        return ApiResponse(204) if entity_type == "time-entries" else ApiResponse(200, obj)
    raise ApiError(405, f"{req.method} not allowed here")


# --- the router ------------------------------------------------------------------------------

def dispatch(req: Request) -> ApiResponse:
    """Route ``req`` (its segments are the path after ``/api``)."""
    s = req.segments
    ws = req.workspace
    if s == ["v1", "user"] and req.method == "GET":
        assert ws is not None
        user = ws.entities["users"].get(str(req.claims.get("user", ""))) or ws.entities["users"].get(ws.owner_id)
        return ApiResponse(200, user)
    if s == ["v1", "workspaces"] and req.method == "GET":
        assert ws is not None
        return ApiResponse(200, [ws.workspace_object()])
    if len(s) >= 3 and s[0] == "v1" and s[1] == "workspaces":
        assert ws is not None
        rest = s[3:]
        if not rest:
            if req.method != "GET":
                raise ApiError(405, f"{req.method} not allowed here")
            return ApiResponse(200, ws.workspace_object())
        head = rest[0]
        if head == "webhooks" and len(rest) <= 2:
            return webhook_item(req, ws, rest[1]) if len(rest) == 2 else webhooks_collection(req, ws)
        if head == "addons" and len(rest) == 3 and rest[2] == "webhooks":
            return addon_webhooks(req, ws, rest[1])
        if head == "projects" and len(rest) >= 3 and rest[2] == "tasks":
            project_id = rest[1]
            get(ws, "projects", project_id)
            if len(rest) == 3:
                return collection(req, "tasks", lambda: list(ws.tasks_by_project.get(project_id, {}).values()),
                                  parent=project_id)
            if len(rest) == 4:
                return item(req, "tasks", rest[3], parent_check=lambda o: o.get("projectId") == project_id)
        if head == "user" and len(rest) == 3 and rest[2] == "time-entries":
            user_id = rest[1]
            if user_id not in ws.entities["users"]:
                raise ApiError(404, f"user {user_id} doesn't belong to Workspace")
            if req.method == "PATCH":
                return stop_timer(req, ws, user_id)
            page = collection(req, "time-entries", lambda: list(ws.entries_by_user.get(user_id, {}).values()),
                              parent=user_id)
            if req.method == "GET" and as_bool(req.query.get("hydrated")):
                page.body = hydrate_entries(ws, page.body)
            return page
        if head == "time-off" and len(rest) >= 2 and rest[1] == "policies":
            if len(rest) == 2:
                return collection(req, "time-off-policies", lambda: list(ws.entities["time-off-policies"].values()))
            if len(rest) == 3:
                return item(req, "time-off-policies", rest[2])
        if head in SIMPLE_COLLECTIONS:
            entity_type = SIMPLE_COLLECTIONS[head]
            if len(rest) == 1:
                if entity_type == "time-entries" and req.method == "GET":
                    raise ApiError(405, "list time entries per user: /user/{userId}/time-entries")
                parent = None
                if entity_type == "time-entries":  # POST creates an entry for the token's user
                    claimed = str(req.claims.get("user", ""))
                    parent = claimed if claimed in ws.entities["users"] else ws.owner_id
                return collection(req, entity_type, lambda: list(ws.entities[entity_type].values()), parent=parent)
            if len(rest) == 2:
                return item(req, entity_type, rest[1])
    if len(s) == 4 and s[0] == "addon" and s[1] == "workspaces" and s[3] == "settings":
        assert ws is not None
        return addon_settings(req, ws)
    raise ApiError(404, "No such endpoint on the Clockify stand-in")
