"""Deterministic fake Clockify workspace data, shaped like Clockify's API (ids are 24-hex strings).

``seed_workspace_data(workspace_id, size=..., seed=...)`` returns a ``WorkspaceData`` whose
``entities[type]`` dicts (id -> object, insertion-ordered) total about ``size`` entities. The same
(workspace_id, size, seed) always gives the same data, so tests and benches can assert on it.
"""

from __future__ import annotations

import hashlib
import itertools
import random
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

# Entity types, named like Clockify's path segments (and addons.catalog's entity types).
ENTITY_TYPES = (
    "users", "clients", "projects", "tasks", "tags", "custom-fields", "user-groups",
    "time-entries", "time-off-policies", "holidays", "expenses",
)
# Share of ``size`` each type gets; time entries take what is left.
_SHARES = {
    "users": 0.05, "clients": 0.05, "projects": 0.08, "tasks": 0.16, "tags": 0.05,
    "user-groups": 0.02, "time-off-policies": 0.01, "holidays": 0.01, "expenses": 0.03,
}
_COLORS = ("#795548", "#03A9F4", "#8BC34A", "#F44336", "#9C27B0", "#FF9800", "#607D8B")
_WORDS = ("Apollo", "Borealis", "Cobalt", "Delta", "Ember", "Falcon", "Granite", "Harbor", "Ion",
          "Juniper", "Krypton", "Lumen", "Meridian", "Nova", "Orbit", "Pioneer", "Quartz", "Radiant",
          "Summit", "Tundra", "Umbra", "Vertex", "Willow", "Xenon", "Yonder", "Zephyr")
_FIRST = ("Ana", "Ben", "Chen", "Dara", "Eli", "Fatima", "Goran", "Hana", "Ivan", "Jade", "Kofi",
          "Lena", "Marko", "Nia", "Omar", "Petra", "Quinn", "Rosa", "Sven", "Tara")
_LAST = ("Novak", "Smith", "Garcia", "Kim", "Okafor", "Jovanovic", "Meyer", "Rossi", "Silva", "Tanaka")
EPOCH = datetime(2026, 1, 5, 8, 0, tzinfo=timezone.utc)  # fixed so seeded data never moves


def iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_duration(seconds: int) -> str:
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    out = "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") + (f"{secs}S" if secs else "")
    return out if out != "PT" else "PT0S"


class IdFactory:
    """24-hex ids derived from (workspace, seed, counter): deterministic and collision-free."""

    def __init__(self, namespace: str) -> None:
        self._prefix = hashlib.sha1(namespace.encode()).hexdigest()[:12]
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    def next(self) -> str:
        with self._lock:
            n = next(self._counter)
        return f"{self._prefix}{n:012x}"


@dataclass
class WorkspaceData:
    workspace_id: str
    name: str
    ids: IdFactory
    entities: dict[str, dict[str, dict[str, Any]]] = field(default_factory=lambda: {t: {} for t in ENTITY_TYPES})
    # Child indexes, so per-parent listings stay O(children) at 10,000 entities.
    tasks_by_project: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    entries_by_user: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    addon_settings: dict[str, Any] = field(default_factory=lambda: {"tabs": []})
    # Add-on and workspace webhooks by id (clockify_standin.apiwebhooks); workspace webhooks allowed.
    webhooks: dict[str, dict[str, Any]] = field(default_factory=dict)
    webhook_limit: int = 300
    webhook_secret: str = field(default_factory=lambda: secrets.token_hex(32))
    owner_id: str = ""
    lock: threading.RLock = field(default_factory=threading.RLock)

    @property
    def total(self) -> int:
        return sum(len(v) for v in self.entities.values())

    def workspace_object(self) -> dict[str, Any]:
        return {
            "id": self.workspace_id,
            "name": self.name,
            "hourlyRate": {"amount": 0, "currency": "USD"},
            "costRate": {"amount": 0, "currency": "USD"},
            "memberships": [
                {"userId": uid, "hourlyRate": None, "costRate": None, "targetId": self.workspace_id,
                 "membershipType": "WORKSPACE", "membershipStatus": "ACTIVE"}
                for uid in itertools.islice(self.entities["users"], 50)
            ],
            "workspaceSettings": {
                "timeRoundingInReports": False, "onlyAdminsSeeBillableRates": True,
                "onlyAdminsCreateProject": True, "onlyAdminsSeeDashboard": False,
                "defaultBillableProjects": True, "lockTimeEntries": None, "round": {"round": "Round to nearest",
                                                                                      "minutes": "15"},
                "projectFavorites": True, "canSeeTimeSheet": False, "canSeeTracker": True,
                "projectPickerSpecialFilter": False, "forceProjects": False, "forceTasks": False,
                "forceTags": False, "forceDescription": False, "onlyAdminsSeeAllTimeEntries": False,
                "onlyAdminsSeePublicProjectsEntries": False, "trackTimeDownToSecond": True,
                "projectGroupingLabel": "client", "adminOnlyPages": [], "automaticLock": None,
                "onlyAdminsCreateTag": False, "onlyAdminsCreateTask": False, "timeTrackingMode": "DEFAULT",
                "isProjectPublicByDefault": True,
            },
            "imageUrl": "",
            "featureSubscriptionType": "ENTERPRISE",
            "subdomain": {"name": None, "enabled": False},
            "currencies": [{"id": hashlib.sha1(f"{self.workspace_id}:USD".encode()).hexdigest()[:24],
                            "code": "USD", "isDefault": True}],
        }

    # --- children indexes ------------------------------------------------------------------------
    def index_add(self, entity_type: str, obj: dict[str, Any]) -> None:
        if entity_type == "tasks":
            self.tasks_by_project.setdefault(obj["projectId"], {})[obj["id"]] = obj
        elif entity_type == "time-entries":
            self.entries_by_user.setdefault(obj["userId"], {})[obj["id"]] = obj

    def index_remove(self, entity_type: str, obj: dict[str, Any]) -> None:
        if entity_type == "tasks":
            self.tasks_by_project.get(obj.get("projectId", ""), {}).pop(obj["id"], None)
        elif entity_type == "time-entries":
            self.entries_by_user.get(obj.get("userId", ""), {}).pop(obj["id"], None)

    def add(self, entity_type: str, obj: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.entities[entity_type][obj["id"]] = obj
            self.index_add(entity_type, obj)
        return obj


# --- entity builders (also used for POSTed entities) ---------------------------------------------

def build_user(ws: WorkspaceData, *, name: str, email: str, status: str = "ACTIVE") -> dict[str, Any]:
    uid = ws.ids.next()
    return {
        "id": uid, "email": email, "name": name, "profilePicture": "",
        "activeWorkspace": ws.workspace_id, "defaultWorkspace": ws.workspace_id,
        "memberships": [{"userId": uid, "hourlyRate": None, "costRate": None, "targetId": ws.workspace_id,
                         "membershipType": "WORKSPACE", "membershipStatus": "ACTIVE"}],
        "settings": {"weekStart": "MONDAY", "timeZone": "Europe/Belgrade", "timeFormat": "HOUR24",
                     "dateFormat": "DD/MM/YYYY", "lang": "EN", "theme": "DEFAULT", "myStartOfDay": "09:00",
                     "summaryReportSettings": {"group": "Project", "subgroup": "Time Entry"}},
        "status": status, "customFields": [],
    }


def build_client(ws: WorkspaceData, *, name: str, **extra: Any) -> dict[str, Any]:
    return {"id": ws.ids.next(), "name": name, "workspaceId": ws.workspace_id, "archived": False,
            "address": "", "note": "", "email": None, "ccEmails": None, "currencyId": None,
            "currencyCode": "USD", **extra}


def build_project(ws: WorkspaceData, *, name: str, client: dict[str, Any] | None = None,
                  color: str = _COLORS[0], billable: bool = True, **extra: Any) -> dict[str, Any]:
    return {
        "id": ws.ids.next(), "name": name, "hourlyRate": {"amount": 0, "currency": "USD"},
        "costRate": None, "clientId": client["id"] if client else "", "clientName": client["name"] if client else "",
        "workspaceId": ws.workspace_id, "billable": billable, "memberships": [], "color": color,
        "estimate": {"estimate": "PT0S", "type": "AUTO"}, "archived": False, "duration": "PT0S",
        "note": "", "template": False, "public": True, "timeEstimate": None, "budgetEstimate": None,
        **extra,
    }


def build_task(ws: WorkspaceData, *, name: str, project_id: str, assignee_ids: list[str] | None = None,
               **extra: Any) -> dict[str, Any]:
    assignees = assignee_ids or []
    return {"id": ws.ids.next(), "name": name, "projectId": project_id, "assigneeIds": assignees,
            "assigneeId": assignees[0] if assignees else "", "userGroupIds": [], "estimate": "PT0S",
            "status": "ACTIVE", "duration": "PT0S", "billable": True, "hourlyRate": None, "costRate": None,
            "workspaceId": ws.workspace_id, **extra}


def build_tag(ws: WorkspaceData, *, name: str, **extra: Any) -> dict[str, Any]:
    return {"id": ws.ids.next(), "name": name, "workspaceId": ws.workspace_id, "archived": False, **extra}


def build_custom_field(ws: WorkspaceData, *, name: str, field_type: str = "TXT",
                       allowed_values: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    return {"id": ws.ids.next(), "name": name, "type": field_type, "workspaceId": ws.workspace_id,
            "required": False, "entityType": "TIMEENTRY", "status": "VISIBLE", "placeholder": "",
            "allowedValues": allowed_values or [], "onlyAdminCanEdit": False, "projectDefaultValues": [],
            "workspaceDefaultValue": None, "description": "", **extra}


def build_user_group(ws: WorkspaceData, *, name: str, user_ids: list[str] | None = None,
                     **extra: Any) -> dict[str, Any]:
    return {"id": ws.ids.next(), "name": name, "workspaceId": ws.workspace_id, "userIds": user_ids or [],
            "teamManagers": [], **extra}


def build_time_entry(ws: WorkspaceData, *, user_id: str, start: datetime, end: datetime | None,
                     description: str = "", project_id: str | None = None, task_id: str | None = None,
                     tag_ids: list[str] | None = None, billable: bool = True, **extra: Any) -> dict[str, Any]:
    return {
        "id": ws.ids.next(), "description": description, "tagIds": tag_ids or [], "userId": user_id,
        "billable": billable, "taskId": task_id, "projectId": project_id,
        "timeInterval": time_interval(start, end), "workspaceId": ws.workspace_id, "isLocked": False,
        "customFieldValues": [], "type": "REGULAR", "kioskId": None, "hourlyRate": None, "costRate": None,
        **extra,
    }


def time_interval(start: datetime, end: datetime | None) -> dict[str, Any]:
    return {"start": iso(start), "end": iso(end) if end else None,
            "duration": iso_duration((end - start).total_seconds()) if end else None}


def build_time_off_policy(ws: WorkspaceData, *, name: str, user_ids: list[str], **extra: Any) -> dict[str, Any]:
    return {"id": ws.ids.next(), "name": name, "workspaceId": ws.workspace_id,
            "approve": {"requiresApproval": True, "specificMembers": False, "teamManagers": False, "userIds": []},
            "archived": False, "allowHalfDay": True, "allowNegativeBalance": False, "everyoneIncludingNew": False,
            "timeUnit": "DAYS", "userGroupIds": [], "userIds": user_ids, "color": _COLORS[1],
            "automaticAccrual": None, "negativeBalance": None, "hasExpiration": False, **extra}


def build_holiday(ws: WorkspaceData, *, name: str, day: datetime, **extra: Any) -> dict[str, Any]:
    date = day.strftime("%Y-%m-%d")
    return {"id": ws.ids.next(), "name": name, "datePeriod": {"startDate": date, "endDate": date},
            "everyoneIncludingNew": True, "occursAnnually": True, "userGroupIds": [], "userIds": [],
            "workspaceId": ws.workspace_id, "color": _COLORS[2], "automaticTimeEntryCreation": None, **extra}


def build_expense(ws: WorkspaceData, *, user_id: str, project_id: str, amount: float, day: datetime,
                  **extra: Any) -> dict[str, Any]:
    return {"id": ws.ids.next(), "workspaceId": ws.workspace_id, "userId": user_id, "projectId": project_id,
            "categoryId": None, "date": iso(day), "total": amount, "quantity": 1, "billable": True,
            "locked": False, "notes": "", "fileId": "", **extra}


def seed_workspace_data(workspace_id: str, *, size: int = 200, seed: int = 0) -> WorkspaceData:
    """About ``size`` entities, at least one of each type; deterministic in (workspace_id, size, seed)."""
    rng = random.Random(f"{workspace_id}:{size}:{seed}")
    ws = WorkspaceData(workspace_id=workspace_id, name=f"Demo workspace {workspace_id[-6:]}",
                       ids=IdFactory(f"{workspace_id}:{seed}"))
    size = max(int(size), 20)
    n = {t: max(1, int(size * share)) for t, share in _SHARES.items()}
    n["custom-fields"] = min(12, max(1, size // 50))
    n["time-entries"] = max(1, size - sum(n.values()))

    users = []
    for i in range(n["users"]):
        first, last = _FIRST[i % len(_FIRST)], _LAST[(i // len(_FIRST) + i) % len(_LAST)]
        users.append(ws.add("users", build_user(ws, name=f"{first} {last}", email=f"{first}.{last}.{i}@example.com".lower())))
    ws.owner_id = users[0]["id"]
    user_ids = [u["id"] for u in users]
    clients = [ws.add("clients", build_client(ws, name=f"{_WORDS[i % 26]} Client {i + 1}"))
               for i in range(n["clients"])]
    projects = []
    for i in range(n["projects"]):
        client = clients[i % len(clients)]
        projects.append(ws.add("projects", build_project(
            ws, name=f"{_WORDS[(i * 7) % 26]} Project {i + 1}", client=client, color=_COLORS[i % len(_COLORS)],
            billable=rng.random() < 0.7)))
    tasks = []
    for i in range(n["tasks"]):
        project = projects[i % len(projects)]
        tasks.append(ws.add("tasks", build_task(ws, name=f"Task {i + 1}", project_id=project["id"],
                                                 assignee_ids=[rng.choice(user_ids)])))
    tags = [ws.add("tags", build_tag(ws, name=f"tag-{_WORDS[i % 26].lower()}-{i + 1}")) for i in range(n["tags"])]
    field_types = ("TXT", "NUMBER", "CHECKBOX", "DROPDOWN_SINGLE")
    for i in range(n["custom-fields"]):
        ftype = field_types[i % len(field_types)]
        ws.add("custom-fields", build_custom_field(
            ws, name=f"Field {i + 1}", field_type=ftype,
            allowed_values=["low", "medium", "high"] if ftype == "DROPDOWN_SINGLE" else None))
    for i in range(n["user-groups"]):
        ws.add("user-groups", build_user_group(ws, name=f"Team {_WORDS[i % 26]}",
                                               user_ids=rng.sample(user_ids, min(len(user_ids), 3))))
    for i in range(n["time-off-policies"]):
        ws.add("time-off-policies", build_time_off_policy(ws, name=("Vacation", "Sick leave", "Parental leave",
                                                                      "Training")[i % 4] + (f" {i}" if i >= 4 else ""),
                                                            user_ids=user_ids[:10]))
    for i in range(n["holidays"]):
        ws.add("holidays", build_holiday(ws, name=f"Holiday {i + 1}", day=EPOCH + timedelta(days=30 * i)))
    for i in range(n["expenses"]):
        ws.add("expenses", build_expense(ws, user_id=rng.choice(user_ids), project_id=rng.choice(projects)["id"],
                                         amount=round(rng.uniform(5, 500), 2), day=EPOCH + timedelta(days=i % 90)))
    for i in range(n["time-entries"]):
        task = rng.choice(tasks)
        start = EPOCH - timedelta(days=rng.randrange(0, 120), minutes=rng.randrange(0, 600))
        ws.add("time-entries", build_time_entry(
            ws, user_id=rng.choice(user_ids), start=start, end=start + timedelta(minutes=rng.randrange(15, 480)),
            description=f"Work on {task['name']}", project_id=task["projectId"], task_id=task["id"],
            tag_ids=[rng.choice(tags)["id"]] if rng.random() < 0.5 else [], billable=rng.random() < 0.7))
    return ws
