"""Clockify pagination: ``page`` (1-based) and ``page-size``; the end is a ``Last-Page: true``
header where the endpoint sends one, else a page shorter than asked for (or empty).

A ``Pager`` stops at ``max_pages`` (an absolute page number, so a resumed pager keeps the same
cap) and records ``truncated`` when it stopped there with more pages possibly left.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterator, Mapping

if TYPE_CHECKING:
    from addons.clockify.client import ClockifyClient, ClockifyResponse

# Endpoints that wrap their list in an object, e.g. {"expenses": {"expenses": [...], "count": 3}}.
_LIST_KEYS = ("items", "data", "results", "content")


def extract_items(body: Any, items_key: str | None = None) -> list[Any]:
    """The list a page carries: the body itself, ``body[items_key]`` (dotted path allowed), or the
    only list-valued field of an object."""
    if items_key:
        for part in items_key.split("."):
            body = body.get(part) if isinstance(body, dict) else None
        return list(body) if isinstance(body, list) else []
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        for key in _LIST_KEYS:
            if isinstance(body.get(key), list):
                return body[key]
        lists = [v for v in body.values() if isinstance(v, list)]
        if len(lists) == 1:
            return lists[0]
    return []


def _header_flag(response: "ClockifyResponse", name: str) -> bool | None:
    value = response.headers.get(name)
    if value is None:
        return None
    return value.strip().lower() == "true"


@dataclass
class Page:
    number: int
    items: list[Any]
    response: "ClockifyResponse"
    is_last: bool


@dataclass
class Pager:
    client: "ClockifyClient"
    path: str
    params: Mapping[str, Any] | None = None
    page_size: int = 50
    max_pages: int = 200
    start_page: int = 1
    base: str = "backend"
    page_size_param: str = "page-size"
    items_key: str | None = None
    truncated: bool = False
    pages_fetched: int = 0
    items_fetched: int = 0
    last_page: int = field(default=0)

    def __iter__(self) -> Iterator[Page]:
        from addons.clockify.client import ClockifyHTTPError

        number = max(1, self.start_page)
        while number <= self.max_pages:
            query = {**(self.params or {}), "page": number, self.page_size_param: self.page_size}
            response = self.client.request("GET", self.path, params=query, base=self.base)
            if not response.ok:
                raise ClockifyHTTPError(response, self.path)
            items = extract_items(response.json(), self.items_key)
            flag = _header_flag(response, "Last-Page")
            is_last = flag if flag is not None else len(items) < self.page_size
            self.pages_fetched += 1
            self.items_fetched += len(items)
            self.last_page = number
            yield Page(number=number, items=items, response=response, is_last=is_last)
            if is_last:
                return
            number += 1
        # Stopped by the cap while the last page was full: there may be more.
        self.truncated = True
