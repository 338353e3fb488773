"""The registry of GET endpoints bootstrap may call: read-only, workspace-scoped, and needing no
ids it has not fetched itself (children fan out from a parent's items, e.g. tasks per project).

Each names its operation in Clockify's OpenAPI document and sends only the query parameters that
operation declares, every required one included (``include-roles`` on users); only operations
taking ``page``/``page-size`` are paged, the others are one GET (``bootstrap/tests/
test_endpoints_contract`` checks all of it against the document).

An endpoint runs only when the installation's variant may read it (``Variant.api_access``);
heavy and report-style ones only with ``include_heavy_endpoints``; time entries only with
``include_time_entries``, from ``time_entry_days_back`` days ago. Entity types follow
``addons.catalog`` (Clockify's path names).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from addons.scopes import scope_for
from addons.variants import Variant

SETTINGS_STEP = "addon-settings"  # the first step: read the installation's structured settings


@dataclass(frozen=True)
class Endpoint:
    name: str
    path: str  # relative to the base URL; {workspace_id} and {parent_id} are filled in
    entity_type: str
    operation_id: str  # the operation in Clockify's OpenAPI document
    priority: int = 20  # lower runs first
    single: bool = False  # one object, not a page of them
    paginated: bool = True  # False: the operation takes no page/page-size and answers the whole list
    query: tuple[tuple[str, str], ...] = ()  # fixed query parameters (required ones included)
    parent: str | None = None  # one step per item of that endpoint
    items_key: str | None = None  # where a wrapped page keeps its list (dotted)
    heavy: bool = False
    time_entries: bool = False
    window: str | None = None  # "since": add start= (time entries); "range": start= and end=
    base: str = "backend"

    @property
    def scope(self) -> str:
        """The READ scope the variant must hold (``addons.scopes``)."""
        return scope_for("GET", self.path) or ""

    def enabled(self, *, variant: Variant, options: dict[str, Any]) -> bool:
        if not variant.api_access.allows_scope(self.scope):
            return False
        if self.heavy and not options.get("include_heavy_endpoints"):
            return False
        if self.time_entries and not options.get("include_time_entries"):
            return False
        return True

    def build_path(self, *, workspace_id: str, parent_id: str = "") -> str:
        return self.path.format(workspace_id=workspace_id, parent_id=parent_id)

    def params(self, options: dict[str, Any]) -> dict[str, str]:
        """The query parameters besides paging."""
        params = dict(self.query)
        if self.window == "since":
            params["start"] = options["time_entries_since"]
        elif self.window == "range":
            params.update(start=options["time_entries_since"], end=options["window_end"])
        return params


_W = "/v1/workspaces/{workspace_id}"

ENDPOINTS: dict[str, Endpoint] = {
    e.name: e
    for e in (
        # core
        Endpoint("user", "/v1/user", "users", "getLoggedUser", priority=10, single=True, paginated=False),
        Endpoint("workspace", _W, "workspaces", "getWorkspaceOfUser", priority=10, single=True, paginated=False),
        Endpoint("users", f"{_W}/users", "users", "getUsersOfWorkspace", query=(("include-roles", "true"),)),
        Endpoint("clients", f"{_W}/clients", "clients", "getClients"),
        Endpoint("projects", f"{_W}/projects", "projects", "getProjects"),
        Endpoint("tags", f"{_W}/tags", "tags", "getTags"),
        Endpoint("custom-fields", f"{_W}/custom-fields", "custom-fields", "ofWorkspace", paginated=False),
        Endpoint("user-groups", f"{_W}/user-groups", "user-groups", "getUserGroups"),
        Endpoint("tasks", f"{_W}/projects/{{parent_id}}/tasks", "tasks", "getTasks", priority=30, parent="projects"),
        # other cheap workspace-wide lists
        Endpoint("holidays", f"{_W}/holidays", "holidays", "getHolidays", paginated=False),
        Endpoint("time-off-policies", f"{_W}/time-off/policies", "time-off-policies", "findPoliciesForWorkspace"),
        # time entries: per user, bounded in time
        Endpoint("time-entries", f"{_W}/user/{{parent_id}}/time-entries", "time-entries", "getTimeEntries",
                 priority=40, parent="users", time_entries=True, window="since"),
        Endpoint("time-entries-in-progress", f"{_W}/time-entries/status/in-progress", "time-entries",
                 "getInProgressTimeEntries", priority=40, time_entries=True),
        # heavy and report-style
        Endpoint("expenses", f"{_W}/expenses", "expenses", "getExpenses", priority=50, heavy=True,
                 items_key="expenses.expenses"),
        Endpoint("expense-categories", f"{_W}/expenses/categories", "expense-categories", "getCategories",
                 priority=50, heavy=True, items_key="categories"),
        Endpoint("invoices", f"{_W}/invoices", "invoices", "getInvoices", priority=50, heavy=True,
                 items_key="invoices"),
        Endpoint("approval-requests", f"{_W}/approval-requests", "approval-requests", "getApprovalRequests",
                 priority=50, heavy=True),
        Endpoint("assignments", f"{_W}/scheduling/assignments/all", "assignments", "getAllAssignments",
                 priority=50, heavy=True, window="range"),
    )
}


def children_of(name: str) -> list[Endpoint]:
    return [e for e in ENDPOINTS.values() if e.parent == name]


def plan_options(*, effective: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """The run options from the installation's effective settings (fixed for the whole run)."""
    now = now or datetime.now(timezone.utc)
    since = now - timedelta(days=int(effective["time_entry_days_back"]))
    return {
        "max_rps": int(effective["bootstrap_max_rps"]),
        "max_pages": int(effective["bootstrap_max_pages"]),
        "include_heavy_endpoints": bool(effective["include_heavy_endpoints"]),
        "include_time_entries": bool(effective["include_time_entries"]),
        "time_entry_days_back": int(effective["time_entry_days_back"]),
        "time_entries_since": since.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "window_end": (now + timedelta(days=int(effective["time_entry_days_back"]))).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def top_level_endpoints(*, variant: Variant, options: dict[str, Any]) -> list[Endpoint]:
    return [e for e in ENDPOINTS.values() if e.parent is None and e.enabled(variant=variant, options=options)]
