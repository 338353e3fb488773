"""Webhook reads, always scoped by installation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from installations.models import Installation
from webhooks.models import CustomSource, WebhookEvent


def webhook_event_list(
    *,
    installation: Installation,
    status: str | None = None,
    event_type: str | None = None,
    source: str | None = None,
    custom_source: CustomSource | None = None,
    entity_id: str | None = None,
    user_id: str | None = None,
    project_id: str | None = None,
    received_after: datetime | None = None,
    received_before: datetime | None = None,
) -> QuerySet[WebhookEvent]:
    """Newest first; every filter is served by an (installation, ...) index."""
    events = WebhookEvent.objects.filter(installation=installation)
    for field, value in (("status", status), ("event_type", event_type), ("source", source),
                         ("entity_id", entity_id), ("user_id", user_id), ("project_id", project_id)):
        if value:
            events = events.filter(**{field: value})
    if custom_source is not None:
        events = events.filter(custom_source=custom_source)
    if received_after:
        events = events.filter(received_at__gte=received_after)
    if received_before:
        events = events.filter(received_at__lt=received_before)
    return events.order_by("-received_at", "-pk")


def webhook_event_get(*, installation: Installation, event_id: int) -> WebhookEvent | None:
    return WebhookEvent.objects.filter(installation=installation, pk=event_id).first()


def custom_source_list(*, installation: Installation) -> QuerySet[CustomSource]:
    return CustomSource.objects.filter(installation=installation).prefetch_related("secrets").order_by("name")


def custom_source_get(*, installation: Installation, public_id: str) -> CustomSource | None:
    return CustomSource.objects.filter(installation=installation, public_id=public_id).first()


def custom_source_url(*, source: CustomSource) -> str:
    """The URL to give the sending system."""
    return f"{source.installation.variant_spec.base_url}/webhooks/custom/{source.public_id}"


def workspace_webhook_states(*, installation: Installation) -> dict[str, Any] | None:
    """How each API-only event's workspace webhook stands, for the dashboard; ``None`` when the
    variant has no such events."""
    from addons.variants import Feature
    from installations.selectors import effective_settings
    from webhooks.models import WorkspaceWebhook

    variant = installation.variant_spec
    if not variant.allows(Feature.WORKSPACE_WEBHOOKS) or not variant.workspace_webhook_events:
        return None
    enabled = bool(effective_settings(installation=installation)["enable_workspace_webhooks"])
    rows = {row.event: row for row in WorkspaceWebhook.objects.filter(installation=installation)}
    events = []
    for event in variant.workspace_webhook_events:
        row = rows.get(event)
        state = row.state if row is not None else ("pending" if enabled else "off")
        events.append({"event": event, "state": state, "label": _STATE_LABELS.get(state, state),
                       "reason": row.reason if row is not None else "",
                       "updated_at": row.updated_at if row is not None else None})
    return {"enabled": enabled, "events": events}


_STATE_LABELS = {"pending": "pending", "registered": "registered", "plan_limit": "refused: plan limit",
                 "failed": "failed", "off": "off"}
