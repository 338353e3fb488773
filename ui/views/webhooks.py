"""Webhook log: filtered, paginated list that picks up new events by polling; event detail; replay."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from addons.catalog import get_event
from addons.iframe_auth import IframeUser
from ui import selectors
from ui.pages import admin_only_page, iframe_page, iframe_xhr, page_context

logger = logging.getLogger("ui.webhooks")

PAGE_SIZE = 25
# Header values that authenticate a delivery are never shown back, even to admins.
_SECRET_HEADER_HINTS = ("signature", "token", "authorization", "secret", "cookie", "api-key", "apikey")


def _safe_headers(headers: Any) -> list[tuple[str, str]]:
    if not isinstance(headers, dict):
        return []
    rows = []
    for name, value in sorted(headers.items()):
        hidden = any(hint in str(name).lower() for hint in _SECRET_HEADER_HINTS)
        rows.append((str(name), "•••••• (hidden)" if hidden else str(value)[:500]))
    return rows


def _page_number(raw: str) -> int:
    try:
        return max(1, int(raw))
    except (TypeError, ValueError):
        return 1


@iframe_page
@require_GET
def webhook_log(request: HttpRequest, user: IframeUser) -> HttpResponse:
    installation = user.installation
    filters = selectors.EventFilters.from_query(request.GET)
    events = selectors.webhook_events(installation=installation, filters=filters)
    context = page_context(request, user, active="webhooks")
    context.update({"filters": filters, "choices": selectors.webhook_filter_choices(installation=installation)})
    if events is None:
        context["unavailable"] = True
        return render(request, "ui/webhooks.html", context)
    page = Paginator(events, PAGE_SIZE).get_page(_page_number(request.GET.get("page", "1")))
    context.update({
        "page": page,
        "events": list(page.object_list),
        "filter_query": filters.as_query(),
        # Only the first page grows live; later pages would shift under the reader.
        "live": page.number == 1,
        "latest_id": page.object_list[0].pk if page.number == 1 and page.object_list else 0,
    })
    return render(request, "ui/webhooks.html", context)


@iframe_xhr()
@require_GET
def webhook_rows(request: HttpRequest, user: IframeUser) -> HttpResponse:
    """The first page of rows for the page's filters, as an HTML fragment; rows newer than
    ``after`` (the newest event id the page shows) are marked new. Refreshes statuses too."""
    filters = selectors.EventFilters.from_query(request.GET)
    try:
        after = int(request.GET.get("after", "0"))
    except ValueError:
        return JsonResponse({"error": "bad_after"}, status=400)
    rows = list(selectors.webhook_events(installation=user.installation, filters=filters)[:PAGE_SIZE])
    response = render(request, "ui/_webhook_rows.html", {"events": rows, "variant": user.variant,
                                                          "token_query": "", "after": after})
    response["X-Latest-Id"] = str(max([after] + [e.pk for e in rows]))
    return response


def _name_of(data: Any) -> str:
    if not isinstance(data, dict):
        return ""
    return str(data.get("name") or data.get("description") or data.get("email") or "")


def _named_in_payload(payload: Any, entity_id: str, depth: int = 0) -> str:
    """A name the event itself carries for ``entity_id`` (e.g. ``project: {id, name}``)."""
    if depth > 3:
        return ""
    if isinstance(payload, dict):
        if payload.get("id") == entity_id and _name_of(payload):
            return _name_of(payload)
        children = payload.values()
    elif isinstance(payload, list):
        children = payload[:20]
    else:
        return ""
    for child in children:
        found = _named_in_payload(child, entity_id, depth + 1)
        if found:
            return found
    return ""


def _derived_entities(user: IframeUser, event) -> list[dict[str, str]]:
    """The ids an event names, with names from the entity cache, else from the event itself."""
    from bootstrap.selectors import entity_get

    spec = get_event(event.event_type or "")
    wanted = []
    if event.entity_id:
        wanted.append((spec.entity_type if spec else "entity", event.entity_id))
    if event.project_id and (not spec or spec.entity_type != "projects"):
        wanted.append(("projects", event.project_id))
    if event.user_id and (not spec or spec.entity_type != "users"):
        wanted.append(("users", event.user_id))
    rows = []
    for entity_type, entity_id in wanted:
        name = _name_of(entity_get(installation=user.installation, entity_type=entity_type, entity_id=entity_id))
        origin = "cache" if name else ""
        if not name:
            name = _named_in_payload(event.payload, entity_id)
            origin = "event" if name else ""
        rows.append({"type": entity_type, "id": entity_id, "name": name, "origin": origin})
    return rows


@iframe_page
@require_GET
def webhook_detail(request: HttpRequest, user: IframeUser, event_id: int) -> HttpResponse:
    if not user.is_admin:  # payloads carry other users' names and emails
        return admin_only_page(request, user, active="webhooks", message="Event payloads include personal data.")
    event = selectors.webhook_event_get(installation=user.installation, event_id=event_id)
    if event is None:
        raise Http404("No such event")
    context = page_context(request, user, active="webhooks")
    context.update({
        "event": event,
        "payload_json": json.dumps(event.payload, indent=2, sort_keys=True, ensure_ascii=False, default=str),
        "headers": _safe_headers(getattr(event, "headers", {})),
        "entities": _derived_entities(user, event),
        "can_replay": user.is_admin and user.installation.is_active,
        "replays": list(event.replays.order_by("-id")[:10]) if hasattr(event, "replays") else [],
    })
    return render(request, "ui/webhook_detail.html", context)


@iframe_xhr(admin=True)
@require_POST
def webhook_replay(request: HttpRequest, user: IframeUser, event_id: int) -> HttpResponse:
    from webhooks.services import ReplayError, webhook_event_replay

    event = selectors.webhook_event_get(installation=user.installation, event_id=event_id)
    if event is None:
        return JsonResponse({"error": "not_found"}, status=404)
    try:
        replay = webhook_event_replay(event=event)
    except ReplayError as exc:
        return JsonResponse({"error": "replay_refused", "detail": str(exc)}, status=409)
    logger.info("ui_webhook_replayed", extra={"installation_id": user.installation.pk, "event_id": event.pk})
    return JsonResponse({"message": "Replay queued", "id": replay.pk}, status=202)
