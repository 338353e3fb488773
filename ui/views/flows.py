"""Flows: the list with enable toggles, the builder, run detail. Writes go through the flows JSON
API (``/<variant>/api/v1/flows...``) from the page's script; these views only render."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings as django_settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from addons.iframe_auth import IframeUser
from addons.variants import Feature
from installations.selectors import effective_settings
from ui import backends
from ui import flow_selectors as fs
from ui.pages import admin_only_page, iframe_page, iframe_xhr, page_context

SAMPLES_DIR_SETTING = "CLOCKIFY_WEBHOOK_SAMPLES_DIR"


def _flows_api(user: IframeUser) -> str | None:
    path = f"/{user.variant.slug}/api/v1/flows"
    return path if backends.url_exists(path) else None


def _require_flows(user: IframeUser) -> None:
    if not user.installation.variant_spec.allows(Feature.FLOWS):
        raise Http404("Flows are not part of this plan")


@iframe_page
@require_GET
def flow_list(request: HttpRequest, user: IframeUser) -> HttpResponse:
    _require_flows(user)
    context = page_context(request, user, active="flows")
    flows = fs.flows_with_last_run(installation=user.installation)
    context.update({
        "flows": flows,
        "api": _flows_api(user),
        "flows_setting_on": effective_settings(installation=user.installation).get("enable_flows", True),
    })
    return render(request, "ui/flows.html", context)


def _action_types(user: IframeUser) -> list[str]:
    spec = user.installation.variant_spec
    types = []
    if spec.allows(Feature.FLOW_CLOCKIFY_ACTIONS):
        types.append("clockify")
    if spec.allows(Feature.FLOW_HTTP_ACTIONS) and effective_settings(installation=user.installation).get(
            "enable_generic_http_actions"):
        types.append("http")
    return types


def _operations(user: IframeUser) -> list[dict[str, Any]] | None:
    get_catalog = backends.function("explorer.catalog", "get_catalog")
    if get_catalog is None:
        return None
    return [op.summary_dict() for op in get_catalog(user.installation).operations]


@iframe_page
@require_GET
def flow_builder(request: HttpRequest, user: IframeUser, flow_id: str | None = None) -> HttpResponse:
    _require_flows(user)
    flow = None
    if flow_id is not None:
        flow = fs.flow_get(installation=user.installation, public_id=flow_id)
        if flow is None:
            raise Http404("No such flow")
    spec = user.installation.variant_spec
    context = page_context(request, user, active="flows")
    # Readers see where http actions go, not their credentials; secret values are shown to nobody.
    actions_for = backends.function("flows.redaction", "actions_for")
    builder = {
        "flow": None if flow is None else {
            "id": flow.public_id, "name": flow.name, "enabled": flow.enabled, "trigger": flow.trigger,
            "conditions": flow.conditions, "actions": actions_for(flow.actions, admin=user.is_admin),
            "secrets": [secret.name for secret in flow.secrets.all()],
        },
        "events": list(spec.events),
        "customSources": fs.custom_sources(installation=user.installation)
        if spec.allows(Feature.CUSTOM_SOURCE_TRIGGERS) else [],
        "actionTypes": _action_types(user),
        "operations": _operations(user) or [],
        "ops": ["==", "!=", ">", ">=", "<", "<=", "contains", "not_contains", "in", "exists", "not_exists",
                "matches"],
        "api": _flows_api(user),
        "canEdit": user.is_admin,
    }
    context.update({
        "flow": flow,
        "builder": builder,
        "runs": fs.flow_runs(installation=user.installation, flow=flow) if flow and user.is_admin else [],
    })
    return render(request, "ui/flow_builder.html", context)


@iframe_page
@require_GET
def run_detail(request: HttpRequest, user: IframeUser, run_id: str) -> HttpResponse:
    _require_flows(user)
    if not user.is_admin:  # runs carry event payloads; the flows API keeps them to admins too
        return admin_only_page(request, user, active="flows", message="Run details include event data.")
    run = fs.run_get(installation=user.installation, public_id=run_id)
    if run is None:
        raise Http404("No such run")
    steps = []
    for step in run.steps.all():
        steps.append({
            "step": step,
            "request_json": json.dumps(step.request, indent=2, sort_keys=True, default=str),
            "response_json": json.dumps(step.response, indent=2, sort_keys=True, default=str)
            if step.response is not None else "",
        })
    failed_index = next((s["step"].index for s in steps if s["step"].status == "failed"), None)
    context = page_context(request, user, active="flows")
    context.update({
        "run": run,
        "steps": steps,
        "failed_index": failed_index,
        "event_json": json.dumps(run.event_payload, indent=2, sort_keys=True, default=str),
        "api": _flows_api(user),
    })
    return render(request, "ui/flow_run.html", context)


def _shared_sample(event_type: str) -> Any | None:
    folder = getattr(django_settings, SAMPLES_DIR_SETTING, "") or ""
    candidates = [Path(folder)] if folder else []
    candidates.append(Path(django_settings.BASE_DIR).parent / "shared" / "clockify" / "webhook-samples")
    for base in candidates:
        path = base / f"{event_type}.json"
        if path.is_file():
            try:
                return json.loads(path.read_text())
            except ValueError:
                return None
    return None


@iframe_xhr(admin=True)  # a real payload carries personal data; the builder is for admins anyway
@require_GET
def sample_event(request: HttpRequest, user: IframeUser) -> HttpResponse:
    """A sample payload of an event type for the path picker: the latest one received, else a
    bundled sample. Custom sources: the latest delivery of that source."""
    event_type = request.GET.get("event_type", "")[:64]
    source = request.GET.get("custom_source", "")[:64]
    spec = user.installation.variant_spec
    if event_type and not spec.subscribes(event_type):
        return JsonResponse({"error": "unknown_event_type"}, status=400)
    payload = fs.latest_payload(installation=user.installation, event_type=event_type, custom_source=source)
    origin = "received"
    if payload is None and event_type:
        payload, origin = _shared_sample(event_type), "sample"
    if payload is None:
        return JsonResponse({"payload": None, "origin": "none"})
    return JsonResponse({"payload": payload, "origin": origin})



@iframe_xhr(admin=True)
@require_GET
def flow_run_rows(request: HttpRequest, user: IframeUser, flow_id: str) -> HttpResponse:
    """The flow's latest runs as table rows, for the polling run history."""
    flow = fs.flow_get(installation=user.installation, public_id=flow_id)
    if flow is None:
        return JsonResponse({"error": "not_found"}, status=404)
    runs = fs.flow_runs(installation=user.installation, flow=flow)
    return render(request, "ui/_run_rows.html", {"runs": runs, "variant": user.variant, "token_query": ""})
