"""The stand-in's less generic endpoints: add-on settings, reports, running timers, hydration."""

from __future__ import annotations

from typing import Any

from clockify_standin import data as d
from clockify_standin.apicore import (
    DEFAULT_PAGE_SIZE, ApiError, ApiResponse, Request, body_object, filter_entries, paginate, parse_time,
)
from clockify_standin.data import WorkspaceData


def addon_settings(req: Request, ws: WorkspaceData) -> ApiResponse:
    if req.method == "GET":
        return ApiResponse(200, ws.addon_settings)
    if req.method == "PUT":  # stand-in extension: the Clockify side registers the manifest's settings
        body = body_object(req)
        if not isinstance(body.get("tabs"), list):
            raise ApiError(400, "settings must have tabs")
        with ws.lock:
            ws.addon_settings = body
        return ApiResponse(200, ws.addon_settings)
    if req.method == "PATCH":
        items = req.body.get("settings") if isinstance(req.body, dict) else req.body
        if not isinstance(items, list) or not all(isinstance(i, dict) and "id" in i and "value" in i for i in items):
            raise ApiError(400, "body must be a list of {id, value}")
        with ws.lock:
            known = {s["id"]: s for s in iter_settings(ws.addon_settings)}
            unknown = [i["id"] for i in items if i["id"] not in known]
            if unknown:
                raise ApiError(400, f"unknown settings: {unknown}")
            for i in items:
                known[i["id"]]["value"] = i["value"]
        return ApiResponse(200, ws.addon_settings)
    raise ApiError(405, f"{req.method} not allowed here")


def iter_settings(structured: dict[str, Any]):
    for tab in structured.get("tabs") or []:
        for group in tab.get("groups") or []:
            yield from group.get("settings") or []
        yield from tab.get("settings") or []


def reports_dispatch(req: Request) -> ApiResponse:
    """``{reportsUrl}/v1/workspaces/{ws}/reports/detailed`` (POST), enough for report-style reads."""
    ws = req.workspace
    assert ws is not None
    s = req.segments
    if len(s) == 5 and s[:2] == ["v1", "workspaces"] and s[3] == "reports" and s[4] == "detailed":
        if req.method != "POST":
            raise ApiError(405, f"{req.method} not allowed here")
        body = body_object(req)
        flt = body.get("detailedFilter") or {}
        query = {"page": str(flt.get("page", 1)), "page-size": str(flt.get("pageSize", DEFAULT_PAGE_SIZE))}
        if body.get("dateRangeStart"):
            query["start"] = str(body["dateRangeStart"])
        if body.get("dateRangeEnd"):
            query["end"] = str(body["dateRangeEnd"])
        with ws.lock:
            entries = list(ws.entities["time-entries"].values())
        entries = filter_entries(entries, query)
        page = paginate(entries, query)
        total = sum(_duration_seconds(e) for e in entries)
        return ApiResponse(200, {"totals": [{"_id": "", "totalTime": total, "entriesCount": len(entries)}],
                                 "timeentries": page.body}, page.headers)
    raise ApiError(404, "No such report on the Clockify stand-in")


def _duration_seconds(entry: dict[str, Any]) -> int:
    interval = entry["timeInterval"]
    if not interval.get("end"):
        return 0
    return int((parse_time(interval["end"], "end") - parse_time(interval["start"], "start")).total_seconds())


def hydrate_entries(ws: WorkspaceData, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``hydrated=true``: entries with their project, task and tags objects, as Clockify returns them."""
    out = []
    for entry in entries:
        full = dict(entry)
        full["project"] = ws.entities["projects"].get(entry.get("projectId") or "")
        full["task"] = ws.entities["tasks"].get(entry.get("taskId") or "")
        full["tags"] = [ws.entities["tags"][t] for t in entry.get("tagIds") or [] if t in ws.entities["tags"]]
        out.append(full)
    return out


def stop_timer(req: Request, ws: WorkspaceData, user_id: str) -> ApiResponse:
    """``PATCH /user/{userId}/time-entries`` with ``{"end": ...}`` stops that user's running timer."""
    end = parse_time(body_object(req).get("end"), "end")
    with ws.lock:
        running = [e for e in ws.entries_by_user.get(user_id, {}).values() if e["timeInterval"]["end"] is None]
        if not running:
            raise ApiError(404, "No running time entry for this user")
        entry = running[0]
        start = parse_time(entry["timeInterval"]["start"], "start")
        if end < start:
            raise ApiError(400, "end must not be before start")
        entry["timeInterval"] = d.time_interval(start, end)
    return ApiResponse(200, entry)
