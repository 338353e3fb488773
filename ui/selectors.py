"""Reads behind the pages that aggregate other apps' rows. Every query is scoped by installation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count
from django.utils import timezone

from addons.variants import Feature
from installations.models import Installation
from ui import backends

CHART_DAYS = 7


def recent_days(n: int = CHART_DAYS) -> list[date]:
    today = timezone.now().date()
    return [today - timedelta(days=n - 1 - i) for i in range(n)]


def _day_bounds(days: list[date]) -> list[tuple[date, datetime, datetime]]:
    tz = timezone.get_current_timezone()
    return [(day, timezone.make_aware(datetime.combine(day, time.min), tz),
             timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min), tz)) for day in days]


def _per_day(queryset, field: str, group: str, days: list[date]) -> dict[tuple[date, str], int]:
    """Counts per (day, ``group``): one indexed range query per day rather than a per-row date
    function (SQLite evaluates TruncDate in Python, row by row)."""
    counts: dict[tuple[date, str], int] = {}
    for day, start, end in _day_bounds(days):
        rows = (queryset.filter(**{f"{field}__gte": start, f"{field}__lt": end}).order_by()
                .values(group).annotate(n=Count("id")))
        for row in rows:
            counts[(day, str(row[group] or "custom"))] = row["n"]
    return counts


def webhook_volume(*, installation: Installation, days: list[date]) -> dict[tuple[date, str], int] | None:
    """Events per (day, event type) over ``days``; ``None`` when the webhook log is not in this build."""
    WebhookEvent = backends.model("webhooks", "WebhookEvent")
    if WebhookEvent is None:
        return None
    return _per_day(WebhookEvent.objects.filter(installation=installation), "received_at", "event_type", days)


def _flow_run_model():
    return backends.model("flows", "FlowRun")


def _created_field(model) -> str:
    names = {f.name for f in model._meta.get_fields()}
    for candidate in ("created_at", "started_at", "queued_at", "received_at"):
        if candidate in names:
            return candidate
    return "id"


def flow_run_outcomes(*, installation: Installation, days: list[date]) -> dict[tuple[date, str], int] | None:
    FlowRun = _flow_run_model()
    if FlowRun is None:
        return None
    return _per_day(FlowRun.objects.filter(**_run_scope(FlowRun, installation)), _created_field(FlowRun), "status",
                    days)


def _run_scope(FlowRun, installation: Installation) -> dict[str, Any]:
    names = {f.name for f in FlowRun._meta.get_fields()}
    return {"installation": installation} if "installation" in names else {"flow__installation": installation}


def recent_runs(*, installation: Installation, limit: int = 8) -> list[Any] | None:
    FlowRun = _flow_run_model()
    if FlowRun is None:
        return None
    created = _created_field(FlowRun)
    return list(
        FlowRun.objects.filter(**_run_scope(FlowRun, installation)).select_related("flow").order_by(f"-{created}", "-id")[:limit]
    )


# --- Webhook log ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventFilters:
    event_type: str = ""
    source: str = ""
    status: str = ""
    date_from: date | None = None
    date_to: date | None = None

    @classmethod
    def from_query(cls, query) -> "EventFilters":
        def _date(raw: str) -> date | None:
            try:
                return date.fromisoformat(raw) if raw else None
            except ValueError:
                return None

        return cls(
            event_type=query.get("event_type", "")[:64],
            source=query.get("source", "")[:80],
            status=query.get("status", "")[:32],
            date_from=_date(query.get("from", "")),
            date_to=_date(query.get("to", "")),
        )

    def as_query(self) -> dict[str, str]:
        values = {"event_type": self.event_type, "source": self.source, "status": self.status,
                  "from": self.date_from.isoformat() if self.date_from else "",
                  "to": self.date_to.isoformat() if self.date_to else ""}
        return {k: v for k, v in values.items() if v}


def webhook_events(*, installation: Installation, filters: EventFilters):
    """The installation's webhook log, newest first, filtered."""
    from webhooks.selectors import custom_source_get, webhook_event_list

    tz = timezone.get_current_timezone()
    kwargs: dict[str, Any] = {"event_type": filters.event_type or None, "status": filters.status or None}
    if filters.source in ("clockify", "custom"):
        kwargs["source"] = filters.source
    elif filters.source:  # one custom source, by its public id
        source = custom_source_get(installation=installation, public_id=filters.source)
        if source is None:
            return webhook_event_list(installation=installation).none()
        kwargs["custom_source"] = source
    if filters.date_from:
        kwargs["received_after"] = timezone.make_aware(datetime.combine(filters.date_from, time.min), tz)
    if filters.date_to:
        kwargs["received_before"] = timezone.make_aware(
            datetime.combine(filters.date_to + timedelta(days=1), time.min), tz)
    # Lists show a few columns: leave the (large) bodies in the database.
    return (webhook_event_list(installation=installation, **kwargs).select_related("custom_source")
            .defer("payload", "raw_body", "headers"))


def webhook_event_get(*, installation: Installation, event_id: int):
    from webhooks.selectors import webhook_event_get as get

    return get(installation=installation, event_id=event_id)


def webhook_filter_choices(*, installation: Installation) -> dict[str, Any]:
    from webhooks.models import EventStatus
    from webhooks.selectors import custom_source_list

    sources = [("clockify", "Clockify"), ("custom", "All custom sources")]
    if installation.variant_spec.allows(Feature.CUSTOM_WEBHOOKS):
        sources += [(s.public_id, s.name) for s in custom_source_list(installation=installation)[:50]]
    else:
        sources = sources[:1]
    return {"event_types": list(installation.variant_spec.events), "statuses": list(EventStatus.values),
            "sources": sources}
