"""Custom webhook sources (Universal Webhook): create, show the URL and secret once, rotate, revoke,
recent deliveries. The secret is returned by the create/rotate XHR only and never rendered again."""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from addons.iframe_auth import IframeUser
from config.json_input import JSONInputError, request_json
from addons.variants import Feature
from installations.selectors import effective_settings
from ui.pages import iframe_page, iframe_xhr, page_context
from webhooks import selectors as webhook_selectors
from webhooks import services as webhook_services

logger = logging.getLogger("ui.sources")
RECENT_DELIVERIES = 5


def _allowed(user: IframeUser) -> bool:
    return user.installation.variant_spec.allows(Feature.CUSTOM_WEBHOOKS)


def _rows(user: IframeUser) -> list[dict]:
    installation = user.installation
    return [
        {
            "source": source,
            "url": webhook_selectors.custom_source_url(source=source),
            "secrets": [s for s in source.secrets.all() if s.is_active()],
            "deliveries": list(webhook_selectors.webhook_event_list(installation=installation, custom_source=source)
                               [:RECENT_DELIVERIES]),
        }
        for source in webhook_selectors.custom_source_list(installation=installation)
    ]


@iframe_page
@require_GET
def source_list(request: HttpRequest, user: IframeUser) -> HttpResponse:
    if not _allowed(user):
        raise Http404("Custom webhooks are not part of this plan")
    context = page_context(request, user, active="sources")
    context.update({
        "sources": _rows(user),
        "setting_on": effective_settings(installation=user.installation).get("enable_custom_webhooks", True),
        "tolerance_seconds": settings.WEBHOOK_CUSTOM_TOLERANCE_SECONDS,
    })
    return render(request, "ui/sources.html", context)


@iframe_xhr()
@require_GET
def source_rows(request: HttpRequest, user: IframeUser) -> HttpResponse:
    """The source table's rows (after a create, rotate or revoke), as an HTML fragment."""
    if not _allowed(user):
        return JsonResponse({"error": "not_on_this_plan"}, status=404)
    return render(request, "ui/_source_rows.html", {"sources": _rows(user), "user": user, "variant": user.variant,
                                                     "token_query": ""})


def _secret_response(source, secret: str, status: int, message: str) -> JsonResponse:
    return JsonResponse({"message": message, "id": source.public_id, "name": source.name,
                         "url": webhook_selectors.custom_source_url(source=source), "secret": secret}, status=status)


def _source_or_404(user: IframeUser, source_id: str):
    if not _allowed(user):
        return None
    return webhook_selectors.custom_source_get(installation=user.installation, public_id=source_id)


@iframe_xhr(admin=True)
@require_POST
def source_create(request: HttpRequest, user: IframeUser) -> HttpResponse:
    if not _allowed(user):
        return JsonResponse({"error": "not_on_this_plan"}, status=404)
    try:
        body = request_json(request, empty={})
    except JSONInputError as exc:
        return JsonResponse({"error": exc.reason, "detail": exc.detail}, status=exc.status_code)
    name = body.get("name") if isinstance(body, dict) else None
    if not isinstance(name, str):
        return JsonResponse({"error": "invalid_name", "detail": "name: 1 to 100 characters"}, status=400)
    try:
        source, secret = webhook_services.custom_source_create(installation=user.installation, name=name)
    except webhook_services.CustomSourceError as exc:
        return JsonResponse({"error": "invalid_source", "detail": str(exc)}, status=400)
    return _secret_response(source, secret, 201, "Source created")


@iframe_xhr(admin=True)
@require_POST
def source_rotate(request: HttpRequest, user: IframeUser, source_id: str) -> HttpResponse:
    source = _source_or_404(user, source_id)
    if source is None:
        return JsonResponse({"error": "not_found"}, status=404)
    try:
        secret = webhook_services.custom_source_rotate_secret(source=source)
    except webhook_services.CustomSourceError as exc:
        return JsonResponse({"error": "rotate_refused", "detail": str(exc)}, status=409)
    return _secret_response(source, secret, 200, "Secret rotated: the old one keeps working for a short grace period")


@iframe_xhr(admin=True)
@require_POST
def source_revoke(request: HttpRequest, user: IframeUser, source_id: str) -> HttpResponse:
    source = _source_or_404(user, source_id)
    if source is None:
        return JsonResponse({"error": "not_found"}, status=404)
    webhook_services.custom_source_revoke(source=source)
    logger.info("ui_custom_source_revoked", extra={"installation_id": user.installation.pk})
    return JsonResponse({"message": "Source revoked"})
