"""Reads of flows, runs and custom sources for the pages; every query scoped by installation."""

from __future__ import annotations

from typing import Any

from django.db.models import OuterRef, Subquery

from installations.models import Installation
from ui import backends


def flows_with_last_run(*, installation: Installation) -> list[Any] | None:
    Flow = backends.model("flows", "Flow")
    FlowRun = backends.model("flows", "FlowRun")
    if Flow is None or FlowRun is None:
        return None
    last = FlowRun.objects.filter(flow=OuterRef("pk"), installation=installation).order_by("-created_at", "-id")
    return list(
        Flow.objects.filter(installation=installation)
        .annotate(last_run_status=Subquery(last.values("status")[:1]),
                  last_run_at=Subquery(last.values("created_at")[:1]),
                  last_run_id=Subquery(last.values("public_id")[:1]))
        .order_by("name", "id")
    )


def flow_get(*, installation: Installation, public_id: str):
    Flow = backends.model("flows", "Flow")
    if Flow is None:
        return None
    return Flow.objects.filter(installation=installation, public_id=public_id).first()


def flow_runs(*, installation: Installation, flow, limit: int = 20) -> list[Any]:
    FlowRun = backends.model("flows", "FlowRun")
    if FlowRun is None:
        return []
    return list(FlowRun.objects.filter(installation=installation, flow=flow).order_by("-created_at", "-id")[:limit])


def run_get(*, installation: Installation, public_id: str):
    FlowRun = backends.model("flows", "FlowRun")
    if FlowRun is None:
        return None
    return FlowRun.objects.filter(installation=installation, public_id=public_id).select_related("flow").first()


def custom_sources(*, installation: Installation) -> list[dict[str, str]]:
    CustomSource = backends.model("webhooks", "CustomSource")
    if CustomSource is None:
        return []
    fields = {f.name for f in CustomSource._meta.get_fields()}
    qs = CustomSource.objects.filter(installation=installation)
    if "revoked_at" in fields:
        qs = qs.filter(revoked_at__isnull=True)
    return [{"id": s.public_id, "name": getattr(s, "name", "") or s.public_id} for s in qs.order_by("id")[:200]]


def latest_payload(*, installation: Installation, event_type: str, custom_source: str) -> Any | None:
    WebhookEvent = backends.model("webhooks", "WebhookEvent")
    if WebhookEvent is None:
        return None
    qs = WebhookEvent.objects.filter(installation=installation)
    if custom_source:
        qs = qs.filter(custom_source__public_id=custom_source)
    elif event_type:
        qs = qs.filter(event_type=event_type)
    else:
        return None
    row = qs.order_by("-received_at", "-id").values("payload").first()
    return row["payload"] if row else None
