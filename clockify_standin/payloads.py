"""Webhook bodies shaped like Clockify's, for every event in ``addons.catalog.EVENTS``.

One generator per entity type (plus the few events whose body is not the entity itself, e.g.
EXPENSE_DELETED or ASSIGNMENT_*). When a seeded stand-in workspace is given, bodies reference its
real users, projects, tasks and tags, so a flow or cache update sees ids the API also knows.
Each call produces fresh ids / timestamps for "created" events, so a trickle is never a duplicate.
"""

from __future__ import annotations

import itertools
import random
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from addons.catalog import EVENTS
from clockify_standin import data as d
from clockify_standin.data import WorkspaceData

_counter = itertools.count(1)


class Context:
    """What a body is built from: the workspace (seeded stand-in data or a synthetic one) and an rng."""

    def __init__(self, workspace_id: str, ws: WorkspaceData | None, seed: int | None) -> None:
        self.workspace_id = workspace_id
        self.rng = random.Random(seed if seed is not None else next(_counter))
        self.ws = ws if ws is not None else d.seed_workspace_data(workspace_id, size=20, seed=0)
        self.now = datetime.now(timezone.utc).replace(microsecond=0)

    def new_id(self) -> str:
        return f"{self.rng.getrandbits(96):024x}"

    def pick(self, entity_type: str) -> dict[str, Any]:
        values = list(self.ws.entities[entity_type].values())
        return dict(self.rng.choice(values)) if values else {}

    def user(self) -> dict[str, Any]:
        return self.pick("users")


def _user_settings() -> dict[str, Any]:
    return {"weekStart": "MONDAY", "timeZone": "Europe/Belgrade", "timeFormat": "HOUR24",
            "dateFormat": "DD/MM/YYYY", "sendNewsletter": False, "weeklyUpdates": False, "longRunning": False,
            "scheduledReports": True, "approval": True, "pto": True, "alerts": True, "reminders": True,
            "onboarding": True, "timeTrackingManual": False,
            "summaryReportSettings": {"group": "Project", "subgroup": "Time Entry"}, "isCompactViewOn": False,
            "dashboardSelection": "ME", "dashboardViewType": "PROJECT", "myStartOfDay": "09:00",
            "darkTheme": False, "lang": "EN", "multiFactorEnabled": False, "theme": "DEFAULT"}


def _project_short(p: dict[str, Any]) -> dict[str, Any]:
    keys = ("name", "clientId", "clientName", "workspaceId", "billable", "estimate", "color", "archived",
            "duration", "note", "id", "public", "template")
    return {k: p.get(k) for k in keys}


def _task_short(t: dict[str, Any]) -> dict[str, Any]:
    keys = ("name", "workspaceId", "projectId", "assigneeIds", "assigneeId", "userGroupIds", "estimate",
            "status", "duration", "id")
    return {k: t.get(k) for k in keys}


# --- generators per entity type -------------------------------------------------------------------

def time_entry(ctx: Context, event: str) -> dict[str, Any]:
    created = event in ("NEW_TIME_ENTRY", "NEW_TIMER_STARTED", "TIME_ENTRY_RESTORED")
    base = ctx.pick("time-entries")
    task = ctx.pick("tasks")
    project = ctx.ws.entities["projects"].get(task.get("projectId", ""), ctx.pick("projects"))
    user = ctx.ws.entities["users"].get(base.get("userId", ""), ctx.user())
    tag = ctx.pick("tags")
    start = ctx.now - timedelta(minutes=ctx.rng.randrange(30, 600))
    end = None if event == "NEW_TIMER_STARTED" else start + timedelta(minutes=ctx.rng.randrange(15, 240))
    return {
        "id": ctx.new_id() if created or not base else base["id"],
        "description": f"{'Started' if end is None else 'Worked'} on {task.get('name', 'a task')}",
        "tagIds": [tag["id"]] if tag else [],
        "userId": user.get("id"),
        "billable": bool(project.get("billable", True)),
        "taskId": task.get("id"),
        "projectId": project.get("id"),
        "timeInterval": d.time_interval(start, end),
        "workspaceId": ctx.workspace_id,
        "isLocked": False,
        "hourlyRate": None,
        "costRate": None,
        "customFieldValues": [],
        "project": _project_short(project),
        "task": _task_short(task),
        "user": {"name": user.get("name"), "id": user.get("id"), "status": user.get("status", "ACTIVE")},
        "tags": [{"name": tag["name"], "workspaceId": ctx.workspace_id, "archived": False, "id": tag["id"]}]
        if tag else [],
    }


def project(ctx: Context, event: str) -> dict[str, Any]:
    p = ctx.pick("projects")
    client = ctx.ws.entities["clients"].get(p.get("clientId", ""), {})
    if event == "NEW_PROJECT":
        p["id"], p["name"] = ctx.new_id(), f"New project {ctx.rng.randrange(10**6)}"
    elif event == "PROJECT_UPDATED":
        p["note"] = f"Updated at {d.iso(ctx.now)}"
    body = {k: p.get(k) for k in ("id", "name", "hourlyRate", "clientId", "workspaceId", "billable", "color",
                                  "estimate", "archived", "duration", "clientName", "note", "public", "template")}
    body["workspaceId"] = ctx.workspace_id
    body["tasks"] = [_task_short(t) for t in list(ctx.ws.tasks_by_project.get(p.get("id", ""), {}).values())[:5]]
    body["client"] = {"name": client.get("name"), "workspaceId": ctx.workspace_id, "archived": False,
                      "id": client.get("id")} if client else None
    return body


def task(ctx: Context, event: str) -> dict[str, Any]:
    t = ctx.pick("tasks")
    if event == "NEW_TASK":
        t["id"], t["name"] = ctx.new_id(), f"New task {ctx.rng.randrange(10**6)}"
    elif event == "TASK_UPDATED":
        t["status"] = ctx.rng.choice(("ACTIVE", "DONE"))
    return {k: t.get(k) for k in ("id", "name", "projectId", "assigneeIds", "assigneeId", "userGroupIds",
                                  "estimate", "status", "duration")}


def named(entity_type: str, created_event: str) -> Callable[[Context, str], dict[str, Any]]:
    """Clients and tags: {id, name, workspaceId, archived}."""

    def build(ctx: Context, event: str) -> dict[str, Any]:
        obj = ctx.pick(entity_type)
        if event == created_event:
            obj["id"], obj["name"] = ctx.new_id(), f"New {entity_type[:-1]} {ctx.rng.randrange(10**6)}"
        return {"id": obj.get("id"), "name": obj.get("name"), "workspaceId": ctx.workspace_id,
                "archived": bool(obj.get("archived"))}

    return build


def user(ctx: Context, event: str) -> dict[str, Any]:
    u = ctx.user()
    if event == "USER_JOINED_WORKSPACE":
        n = ctx.rng.randrange(10**6)
        u = {"id": ctx.new_id(), "email": f"new.user{n}@example.com", "name": f"New User {n}"}
    if event in ("USER_DELETED_FROM_WORKSPACE", "USER_UPDATED"):
        return {"id": u["id"], "email": u["email"], "name": u["name"]}
    if event == "USER_EMAIL_CHANGED":
        return {"id": u["id"], "email": f"changed.{ctx.rng.randrange(10**6)}@example.com", "name": u["name"],
                "oldEmail": u["email"]}
    if event in ("USERS_INVITED_TO_WORKSPACE", "LIMITED_USERS_ADDED_TO_WORKSPACE"):
        inviter = {"id": u["id"], "email": u["email"], "name": u["name"], "profilePicture": "",
                   "settings": _user_settings()}
        n = ctx.rng.randrange(10**6)
        if event == "USERS_INVITED_TO_WORKSPACE":
            return {"workspaceId": ctx.workspace_id, "inviter": inviter, "invitedUserEmails": [f"invitee{n}@example.com"]}
        return {"workspaceId": ctx.workspace_id, "inviter": inviter, "invitedUserNames": [f"Limited User {n}"]}
    if event in ("COST_RATE_UPDATED", "BILLABLE_RATE_UPDATED"):
        amount = ctx.rng.randrange(10, 300)
        return {"workspaceId": ctx.workspace_id, "rateChangeSource": "PROJECT_MEMBER",
                "modifiedEntity": {"userId": u["id"], "hourlyRate": {"amount": amount}, "costRate": {"amount": 0},
                                   "targetId": ctx.pick("projects").get("id"), "membershipType": "PROJECT",
                                   "membershipStatus": "ACTIVE"},
                "currency": {"id": ctx.new_id(), "code": "USD"}, "amount": amount, "since": d.iso(ctx.now)}
    return {"id": u["id"], "email": u["email"], "name": u["name"], "profilePicture": "",
            "settings": _user_settings()}


def user_group(ctx: Context, event: str) -> dict[str, Any]:
    g = ctx.pick("user-groups")
    if event == "USER_GROUP_CREATED":
        g["id"], g["name"] = ctx.new_id(), f"Team {ctx.rng.randrange(10**6)}"
    return {"id": g.get("id"), "name": g.get("name"), "workspaceId": ctx.workspace_id,
            "userIds": g.get("userIds", []), "teamManagers": g.get("teamManagers", [])}


def invoice(ctx: Context, event: str) -> dict[str, Any]:
    client, u = ctx.pick("clients"), ctx.user()
    qty, price = ctx.rng.randrange(1, 40), ctx.rng.randrange(20, 200)
    return {"id": ctx.new_id(), "number": f"INV-{ctx.rng.randrange(10**5):05d}",
            "status": "UNSENT" if event == "NEW_INVOICE" else "SENT", "issuedDate": d.iso(ctx.now),
            "dueDate": d.iso(ctx.now + timedelta(days=30)), "subtotal": qty * price, "discount": 0, "tax": 0,
            "tax2": 0, "discountAmount": 0, "taxAmount": 0, "tax2Amount": 0, "amount": qty * price,
            "currency": "USD", "subject": "Services", "note": "", "clientId": client.get("id"),
            "clientName": client.get("name"), "clientAddress": "", "userId": u.get("id"),
            "items": [{"order": 1, "quantity": qty, "description": "Consulting", "unitPrice": price,
                       "amount": qty * price, "itemType": None, "timeEntryIds": []}]}


def expense(ctx: Context, event: str) -> dict[str, Any]:
    e = ctx.pick("expenses")
    if event in ("EXPENSE_DELETED", "EXPENSE_UPDATED"):
        return {"workspaceId": ctx.workspace_id, "userId": e.get("userId"), "projectId": e.get("projectId"),
                "expenseId": e.get("id"), "categoryId": ctx.new_id()}
    body = {"id": ctx.new_id() if event == "EXPENSE_CREATED" else e.get("id"), "workspaceId": ctx.workspace_id,
            "userId": e.get("userId"), "date": d.iso(ctx.now), "projectId": e.get("projectId"), "taskId": None,
            "categoryId": ctx.new_id(), "notes": "Taxi", "quantity": 1, "billable": True, "fileId": "",
            "total": round(ctx.rng.uniform(5, 300), 2)}
    if event == "EXPENSE_RESTORED":
        body.pop("taskId")
        body["locked"] = False
    return body


def approval_request(ctx: Context, event: str) -> dict[str, Any]:
    u = ctx.user()
    week = ctx.now - timedelta(days=ctx.now.weekday() + 7)
    state = "PENDING" if event == "NEW_APPROVAL_REQUEST" else ctx.rng.choice(("APPROVED", "REJECTED"))
    return {"id": ctx.new_id(), "workspaceId": ctx.workspace_id,
            "dateRange": {"start": d.iso(week), "end": d.iso(week + timedelta(days=7, seconds=-1))},
            "owner": {"userId": u["id"], "userName": u["name"], "timezone": "Europe/Belgrade", "startOfWeek": "MONDAY"},
            "status": {"state": state, "updatedBy": u["id"], "updatedByUserName": u["name"],
                       "updatedAt": d.iso(ctx.now), "note": ""}}


_TIME_OFF_STATUS = {
    "TIME_OFF_REQUESTED": "PENDING", "TIME_OFF_REQUEST_UPDATED": "PENDING", "TIME_OFF_REQUEST_APPROVED": "APPROVED",
    "TIME_OFF_REQUEST_REJECTED": "REJECTED", "TIME_OFF_REQUEST_STARTED": "APPROVED",
    "TIME_OFF_REQUEST_WITHDRAWN": "WITHDRAWN",
}


def time_off_request(ctx: Context, event: str) -> dict[str, Any]:
    u, policy = ctx.user(), ctx.pick("time-off-policies")
    day = (ctx.now + timedelta(days=ctx.rng.randrange(1, 60))).replace(hour=0, minute=0, second=0)
    status = _TIME_OFF_STATUS[event]
    changed = status != "PENDING"
    return {"id": ctx.new_id(), "userId": u["id"], "workspaceId": ctx.workspace_id, "policyId": policy.get("id"),
            "timeZone": "Europe/Belgrade", "halfDay": False,
            "timeOffPeriod": {"period": {"start": d.iso(day), "end": d.iso(day + timedelta(days=1, seconds=-1))}},
            "note": None,
            "status": {"statusType": status, "changedByUserId": u["id"] if changed else None,
                       "changedByUserName": u["name"] if changed else None,
                       "changedAt": d.iso(ctx.now) if changed else None, "note": None},
            "balanceDiff": 1, "createdAt": d.iso(ctx.now), "requesterUserId": u["id"], "excludeDays": [],
            "negativeBalanceUsed": 0, "balanceValueAtRequest": ctx.rng.randrange(5, 25)}


def balance(ctx: Context, event: str) -> dict[str, Any]:
    u = ctx.user()
    return {"workspaceId": ctx.workspace_id, "userId": u["id"], "value": str(ctx.rng.randrange(0, 30)),
            "note": "Adjusted", "updatedBy": ctx.ws.owner_id}


def assignment(ctx: Context, event: str) -> dict[str, Any]:
    return {"workspaceId": ctx.workspace_id, "userId": ctx.user()["id"], "projectId": ctx.pick("projects").get("id"),
            "assignmentId": ctx.new_id()}


GENERATORS: dict[str, Callable[[Context, str], dict[str, Any]]] = {
    "time-entries": time_entry, "projects": project, "tasks": task,
    "clients": named("clients", "NEW_CLIENT"), "tags": named("tags", "NEW_TAG"),
    "users": user, "user-groups": user_group, "invoices": invoice, "expenses": expense,
    "approval-requests": approval_request, "time-off-requests": time_off_request, "balances": balance,
    "assignments": assignment,
}


def webhook_body(event: str, *, workspace_id: str, workspace: WorkspaceData | None = None,
                 seed: int | None = None) -> dict[str, Any]:
    """A Clockify-shaped body for ``event`` (KeyError for an event Clockify does not send)."""
    spec = EVENTS[event]
    return GENERATORS[spec.entity_type](Context(workspace_id, workspace, seed), event)
