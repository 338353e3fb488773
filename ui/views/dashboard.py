"""Dashboard (the sidebar entry): bootstrap progress, entity counts, charts, recent events and runs."""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from addons.iframe_auth import IframeUser
from addons.variants import Feature
from installations.models import Installation
from ui import backends, charts, selectors
from ui.pages import iframe_page, iframe_xhr, page_context

logger = logging.getLogger("ui.dashboard")

RUN_STATUS_CSS = {"succeeded": "c-ok", "success": "c-ok", "failed": "c-err", "error": "c-err",
                  "running": "c-run", "pending": "c-run", "queued": "c-run"}


def bootstrap_state(*, installation: Installation) -> dict[str, Any] | None:
    """A JSON-ready summary of the latest bootstrap run, or ``None`` when bootstrap is not in this build."""
    progress_fn = backends.function("bootstrap.selectors", "bootstrap_progress")
    if progress_fn is None:
        return None
    progress = progress_fn(installation=installation)
    run = progress.get("run")
    if run is None:
        return {"status": "never", "percent": 0, "running": False, "message": "Not run yet.", "endpoints": [],
                "truncated": []}
    totals = progress.get("totals") or {}
    status = str(run["status"])
    running = status in ("pending", "running")
    percent = 100 if status == "done" else int(totals.get("percent") or 0)
    if run.get("error"):
        message = str(run["error"])[:300]
    elif running:
        message = f"{totals.get('items', 0)} items fetched ({totals.get('done', 0)} of {totals.get('steps', 0)} steps)"
    else:
        message = f"{totals.get('items', 0)} items in {totals.get('pages', 0)} pages"
    endpoints = [
        {"endpoint": e["endpoint"], "status": e["status"], "items": e["items"], "truncated": e["truncated"],
         "error": (e.get("last_error") or "")[:200]}
        for e in progress.get("endpoints") or []
    ]
    return {
        "status": status,
        "percent": max(0, min(100, percent)),
        "running": running,
        "message": message,
        "finished_at": run["finished_at"].isoformat() if run.get("finished_at") else "",
        "endpoints": endpoints,
        "truncated": [e["endpoint"] for e in endpoints if e["truncated"]],
    }


def entity_counts(*, installation: Installation) -> list[tuple[str, int]] | None:
    fn = backends.function("bootstrap.selectors", "entity_counts")
    if fn is None:
        return None
    counts = fn(installation=installation) or {}
    return sorted(((str(k).replace("_", " ").lower(), int(v)) for k, v in dict(counts).items()), key=lambda kv: kv[0])


def workspace_webhook_states(*, installation: Installation) -> dict[str, Any] | None:
    fn = backends.function("webhooks.selectors", "workspace_webhook_states")
    return fn(installation=installation) if fn is not None else None


@iframe_page
@require_GET
def dashboard(request: HttpRequest, user: IframeUser) -> HttpResponse:
    installation = user.installation
    days = selectors.recent_days()
    volume = selectors.webhook_volume(installation=installation, days=days)
    outcomes = selectors.flow_run_outcomes(installation=installation, days=days) \
        if installation.variant_spec.allows(Feature.FLOWS) else None
    events = selectors.webhook_events(installation=installation, filters=selectors.EventFilters())
    context = page_context(request, user, active="dashboard")
    context.update({
        "bootstrap_enabled": installation.variant_spec.allows(Feature.BOOTSTRAP),
        "bootstrap": bootstrap_state(installation=installation),
        "counts": entity_counts(installation=installation),
        "volume_chart": charts.stacked_by_day(days, volume) if volume is not None else None,
        "runs_chart": charts.stacked_by_day(days, outcomes, css_for=RUN_STATUS_CSS) if outcomes is not None else None,
        "flows_enabled": installation.variant_spec.allows(Feature.FLOWS),
        "recent_events": list(events[:8]) if events is not None else None,
        "recent_runs": selectors.recent_runs(installation=installation),
        "workspace_webhooks": workspace_webhook_states(installation=installation),
    })
    return render(request, "ui/dashboard.html", context)


@iframe_xhr()
@require_GET
def bootstrap_status(request: HttpRequest, user: IframeUser) -> HttpResponse:
    state = bootstrap_state(installation=user.installation)
    if state is None:
        return JsonResponse({"error": "bootstrap_unavailable"}, status=404)
    state["counts"] = entity_counts(installation=user.installation) or []
    return JsonResponse(state)


@iframe_xhr(admin=True)
@require_POST
def bootstrap_run(request: HttpRequest, user: IframeUser) -> HttpResponse:
    start = backends.first_function(("bootstrap.services", "bootstrap_start"),
                                    ("bootstrap.services.runs", "bootstrap_start"))
    if start is None or not user.installation.variant_spec.allows(Feature.BOOTSTRAP):
        return JsonResponse({"error": "bootstrap_unavailable"}, status=404)
    if not user.installation.is_active:
        return JsonResponse({"error": "installation_inactive"}, status=409)
    run = start(installation=user.installation, trigger="admin")
    if run is None:
        return JsonResponse({"error": "bootstrap_not_possible"}, status=409)
    logger.info("ui_bootstrap_started", extra={"installation_id": user.installation.pk})
    return JsonResponse({"message": "Bootstrap started"}, status=202)
