"""Which Clockify scope an API operation needs, and what a variant may call.

Clockify's OpenAPI document does not name scopes, so the scope is read from the operation's
path (the resource it acts on) and method: reads (GET, and the POSTs that only search or build a
report) need ``<RESOURCE>_READ``, changes ``<RESOURCE>_WRITE``. ``ApiAccess`` is a variant's
grant; the explorer, flow actions and bootstrap endpoints all ask it before calling Clockify,
and the manifest declares exactly the scopes it grants (``Variant.scopes``), so nothing the
variant can call lacks a scope and nothing it declares is unused (``addons/tests/test_scopes``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from addons.catalog import SCOPES

RESOURCES: tuple[str, ...] = tuple(dict.fromkeys(scope.rsplit("_", 1)[0] for scope in SCOPES))

_PARAM_RE = re.compile(r"{[^{}/]*}")
_W = "/v1/workspaces/{}"

# First match wins: the more specific prefixes come first.
_RESOURCE_PREFIXES: tuple[tuple[str, str], ...] = (
    (f"{_W}/projects/{{}}/tasks", "TASK"),
    (f"{_W}/projects/{{}}/custom-fields", "CUSTOM_FIELDS"),
    (f"{_W}/projects", "PROJECT"),
    (f"{_W}/clients", "CLIENT"),
    (f"{_W}/tags", "TAG"),
    (f"{_W}/time-entries", "TIME_ENTRY"),
    (f"{_W}/user/{{}}/time-entries", "TIME_ENTRY"),
    (f"{_W}/entities", "TIME_ENTRY"),  # entity changes (experimental): time entries are its documented use
    (f"{_W}/user-groups", "GROUP"),
    (f"{_W}/users", "USER"),
    (f"{_W}/member-profile", "USER"),
    (f"{_W}/custom-fields", "CUSTOM_FIELDS"),
    (f"{_W}/reports", "REPORTS"),
    (f"{_W}/shared-reports", "REPORTS"),
    (f"{_W}/expenses", "EXPENSE"),
    (f"{_W}/invoices", "INVOICE"),
    (f"{_W}/approval-requests", "APPROVAL"),
    (f"{_W}/scheduling", "SCHEDULING"),
    (f"{_W}/time-off", "TIME_OFF"),
    (f"{_W}/holidays", "TIME_OFF"),
    (f"{_W}/webhooks", "WORKSPACE"),
    (f"{_W}/addons", "WORKSPACE"),
    (f"{_W}/cost-rate", "WORKSPACE"),
    (f"{_W}/hourly-rate", "WORKSPACE"),
    (_W, "WORKSPACE"),
    ("/v1/workspaces", "WORKSPACE"),
    ("/v1/shared-reports", "REPORTS"),
    ("/v1/user", "USER"),
    ("/v1/file", "USER"),
)

# POSTs that read: searches, report builders and log queries.
_READING_POSTS = re.compile(
    r"^(?:/v1/workspaces/{}/(?:reports/.*|users/info|invoices/info|webhooks/{}/logs|time-off/requests"
    r"|scheduling/assignments/(?:projects|user-filter)/totals(?:/{})?))$"
)
READ_METHODS = frozenset({"GET", "HEAD"})


def _normalise(path: str) -> str:
    return _PARAM_RE.sub("{}", path.split("?", 1)[0].rstrip("/") or "/")


def resource_for(path: str) -> str | None:
    """The Clockify resource a path template acts on, or ``None`` when the path is unknown."""
    normal = _normalise(path)
    for prefix, resource in _RESOURCE_PREFIXES:
        if normal == prefix or normal.startswith(prefix + "/"):
            return resource
    return None


def scope_for(method: str, path: str) -> str | None:
    """The scope calling ``method path`` needs, e.g. ``("GET", "/v1/workspaces/{w}/tags")`` ->
    ``TAG_READ``; ``None`` for a path this table does not know (a newer OpenAPI document)."""
    resource = resource_for(path)
    if resource is None:
        return None
    method = method.upper()
    reads = method in READ_METHODS or (method == "POST" and bool(_READING_POSTS.match(_normalise(path))))
    return f"{resource}_{'READ' if reads else 'WRITE'}"


@dataclass(frozen=True)
class ApiAccess:
    """A variant's grant: the resources it may read and those it may change. ``unmapped`` lets it
    call operations whose scope the table cannot tell (only a variant granted every scope)."""

    read: frozenset[str]
    write: frozenset[str] = frozenset()
    unmapped: bool = False

    def __post_init__(self) -> None:
        unknown = (self.read | self.write) - set(RESOURCES)
        if unknown:
            raise ValueError(f"unknown Clockify resources: {sorted(unknown)}")

    def allows_scope(self, scope: str | None) -> bool:
        if scope is None:
            return self.unmapped
        resource, _, mode = scope.rpartition("_")
        return resource in (self.read if mode == "READ" else self.write)

    def allows(self, method: str, path: str) -> bool:
        return self.allows_scope(scope_for(method, path))

    @property
    def scopes(self) -> tuple[str, ...]:
        """The manifest's ``scopes``: exactly what this grant lets the variant call."""
        return tuple(scope for scope in SCOPES if self.allows_scope(scope))


EVERYTHING = ApiAccess(read=frozenset(RESOURCES), write=frozenset(RESOURCES), unmapped=True)
