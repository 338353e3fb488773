"""Canonical catalogues of Clockify webhook events and API scopes.

Events: the union of Clockify's developer docs and the ``webhookEvent`` enum of its OpenAPI
document (51). Each event names the entity type it carries and what happened to it, so the
entity cache and the log can derive ids without per-event code. 42 of them are add-on events
(the docs' list and manifest schema 1.2's enum): a manifest may subscribe to them. The other 9
exist only in the workspace-webhook API (``createWebhook``): no manifest schema accepts them, so
the platform registers workspace webhooks for them (``webhooks.services.workspace_webhooks``).
Scopes: the 30 of manifest schemas 1.2-1.4; ``addons.scopes`` says which one an operation needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class EntityAction(str, Enum):
    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"
    OTHER = "other"  # an event about an entity that neither creates, changes nor removes it


@dataclass(frozen=True)
class EventSpec:
    name: str
    entity_type: str  # entity cache type (plural, as in Clockify's API paths)
    action: EntityAction
    description: str
    addon_webhook: bool = True  # False: only a workspace webhook delivers it (no manifest may list it)

    @property
    def slug(self) -> str:
        """URL-safe name used in webhook paths: NEW_TIME_ENTRY -> new-time-entry."""
        return self.name.lower().replace("_", "-")


C, U, D, O = EntityAction.CREATED, EntityAction.UPDATED, EntityAction.DELETED, EntityAction.OTHER

_EVENTS: tuple[tuple[str, str, EntityAction, str], ...] = (
    # time entries
    ("NEW_TIME_ENTRY", "time-entries", C, "A time entry was created"),
    ("TIME_ENTRY_UPDATED", "time-entries", U, "A time entry was updated"),
    ("TIME_ENTRY_DELETED", "time-entries", D, "A time entry was deleted"),
    ("TIME_ENTRY_RESTORED", "time-entries", C, "A deleted time entry was restored"),
    ("TIME_ENTRY_SPLIT", "time-entries", U, "A time entry was split"),
    ("NEW_TIMER_STARTED", "time-entries", C, "A timer was started"),
    ("TIMER_STOPPED", "time-entries", U, "A running timer was stopped"),
    # projects, tasks, clients, tags
    ("NEW_PROJECT", "projects", C, "A project was created"),
    ("PROJECT_UPDATED", "projects", U, "A project was updated"),
    ("PROJECT_DELETED", "projects", D, "A project was deleted"),
    ("NEW_TASK", "tasks", C, "A task was created"),
    ("TASK_UPDATED", "tasks", U, "A task was updated"),
    ("TASK_DELETED", "tasks", D, "A task was deleted"),
    ("NEW_CLIENT", "clients", C, "A client was created"),
    ("CLIENT_UPDATED", "clients", U, "A client was updated"),
    ("CLIENT_DELETED", "clients", D, "A client was deleted"),
    ("NEW_TAG", "tags", C, "A tag was created"),
    ("TAG_UPDATED", "tags", U, "A tag was updated"),
    ("TAG_DELETED", "tags", D, "A tag was deleted"),
    # users and groups
    ("USER_JOINED_WORKSPACE", "users", C, "A user joined the workspace"),
    ("USER_DELETED_FROM_WORKSPACE", "users", D, "A user was removed from the workspace"),
    ("USER_DEACTIVATED_ON_WORKSPACE", "users", U, "A user was deactivated"),
    ("USER_ACTIVATED_ON_WORKSPACE", "users", U, "A user was activated"),
    ("USER_EMAIL_CHANGED", "users", U, "A user's email changed"),
    ("USER_UPDATED", "users", U, "A user was updated"),
    ("USERS_INVITED_TO_WORKSPACE", "users", O, "Users were invited to the workspace"),
    ("LIMITED_USERS_ADDED_TO_WORKSPACE", "users", O, "Limited users were added to the workspace"),
    ("USER_GROUP_CREATED", "user-groups", C, "A user group was created"),
    ("USER_GROUP_UPDATED", "user-groups", U, "A user group was updated"),
    ("USER_GROUP_DELETED", "user-groups", D, "A user group was deleted"),
    # rates
    ("COST_RATE_UPDATED", "users", O, "A cost rate was updated"),
    ("BILLABLE_RATE_UPDATED", "users", O, "A billable rate was updated"),
    # invoices and expenses
    ("NEW_INVOICE", "invoices", C, "An invoice was created"),
    ("INVOICE_UPDATED", "invoices", U, "An invoice was updated"),
    ("EXPENSE_CREATED", "expenses", C, "An expense was created"),
    ("EXPENSE_UPDATED", "expenses", U, "An expense was updated"),
    ("EXPENSE_DELETED", "expenses", D, "An expense was deleted"),
    ("EXPENSE_RESTORED", "expenses", C, "A deleted expense was restored"),
    # approvals
    ("NEW_APPROVAL_REQUEST", "approval-requests", C, "An approval request was submitted"),
    ("APPROVAL_REQUEST_STATUS_UPDATED", "approval-requests", U, "An approval request changed status"),
    # time off
    ("TIME_OFF_REQUESTED", "time-off-requests", C, "Time off was requested"),
    ("TIME_OFF_REQUEST_UPDATED", "time-off-requests", U, "A time-off request was updated"),
    ("TIME_OFF_REQUEST_APPROVED", "time-off-requests", U, "A time-off request was approved"),
    ("TIME_OFF_REQUEST_REJECTED", "time-off-requests", U, "A time-off request was rejected"),
    ("TIME_OFF_REQUEST_STARTED", "time-off-requests", U, "An approved time off started"),
    ("TIME_OFF_REQUEST_WITHDRAWN", "time-off-requests", U, "A time-off request was withdrawn"),
    ("BALANCE_UPDATED", "balances", U, "A time-off balance was updated"),
    # scheduling
    ("ASSIGNMENT_CREATED", "assignments", C, "A scheduling assignment was created"),
    ("ASSIGNMENT_UPDATED", "assignments", U, "A scheduling assignment was updated"),
    ("ASSIGNMENT_DELETED", "assignments", D, "A scheduling assignment was deleted"),
    ("ASSIGNMENT_PUBLISHED", "assignments", O, "Scheduling assignments were published"),
)

# In no manifest schema (1.2 lists 42 events, 1.3 and 1.4 list 22) nor in the docs' add-on list.
WORKSPACE_WEBHOOK_ONLY_EVENTS = frozenset({
    "TIME_ENTRY_RESTORED", "TIME_ENTRY_SPLIT", "USERS_INVITED_TO_WORKSPACE", "LIMITED_USERS_ADDED_TO_WORKSPACE",
    "COST_RATE_UPDATED", "BILLABLE_RATE_UPDATED", "EXPENSE_RESTORED", "TIME_OFF_REQUEST_UPDATED",
    "TIME_OFF_REQUEST_STARTED",
})

EVENTS: dict[str, EventSpec] = {
    name: EventSpec(name, et, act, desc, addon_webhook=name not in WORKSPACE_WEBHOOK_ONLY_EVENTS)
    for name, et, act, desc in _EVENTS
}
EVENTS_BY_SLUG: dict[str, EventSpec] = {spec.slug: spec for spec in EVENTS.values()}

SCOPES: tuple[str, ...] = tuple(
    f"{resource}_{mode}"
    for resource in (
        "CLIENT", "PROJECT", "TAG", "TASK", "TIME_ENTRY", "EXPENSE", "INVOICE", "USER", "GROUP",
        "WORKSPACE", "CUSTOM_FIELDS", "APPROVAL", "SCHEDULING", "REPORTS", "TIME_OFF",
    )
    for mode in ("READ", "WRITE")
)


def get_event(name: str) -> EventSpec | None:
    return EVENTS.get(name)
