"""The webhook-event processor: processed events start the flows they trigger."""

from __future__ import annotations

from typing import Any


def start_flows_for_event(event: Any) -> None:
    """Called by the webhooks worker for every processed event; idempotent (one run per flow/event)."""
    from flows.services import flow_runs_for_event

    flow_runs_for_event(event=event)
