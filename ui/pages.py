"""The frame every iframe page and page XHR goes through: user-token auth and response headers.

Clockify opens a page with ``?auth_token=``; the page's scripts send the same token as
``Authorization: Bearer``. Nothing is kept between requests (no cookie, no session), so each
request is verified on its own. A page whose token fails gets a small page that asks Clockify
for a fresh token (``refreshAddonToken``) and reloads with it; an XHR gets a JSON 401 and the
page script does the same before retrying.
"""

from __future__ import annotations

import logging
from functools import wraps
from typing import Any, Callable
from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt

from addons.iframe_auth import IframeAuthError, IframeUser, authenticate_iframe_user
from addons.variants import Feature, Variant

logger = logging.getLogger("ui.pages")

# Scripts, styles and XHRs from our own origin only; no inline script or style anywhere.
_STRICT_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'"
)


def content_security_policy() -> str:
    ancestors = " ".join(settings.CLOCKIFY_FRAME_ANCESTORS) or "'none'"
    return f"{_STRICT_CSP}; frame-ancestors {ancestors}"


def _secure(response: HttpResponse) -> HttpResponse:
    response["Content-Security-Policy"] = content_security_policy()
    # The URL carries the user token: never send it on as a Referer, never cache the page.
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store"
    return response


def nav_items(user: IframeUser) -> list[dict[str, str]]:
    """The page tabs this installation's plan offers, in display order."""
    spec = user.installation.variant_spec
    items = [{"name": "dashboard", "label": "Dashboard"}, {"name": "webhooks", "label": "Webhook log"}]
    if spec.allows(Feature.FLOWS):
        items.append({"name": "flows", "label": "Flows"})
    if spec.allows(Feature.EXPLORER_READ):
        items.append({"name": "explorer", "label": "API explorer"})
    if spec.allows(Feature.CUSTOM_WEBHOOKS):
        items.append({"name": "sources", "label": "Custom sources"})
    items.append({"name": "settings", "label": "Settings"})
    return items


def page_context(request: HttpRequest, user: IframeUser, *, active: str) -> dict[str, Any]:
    variant = user.variant
    return {
        "user": user,
        "variant": variant,
        "installation": user.installation,
        "active": active,
        "nav": nav_items(user),
        "token_query": urlencode({"auth_token": user.token}),
        "theme_class": "theme-dark" if user.theme == "DARK" else "theme-light",
        # Handed to static/ui/js/app.js through json_script (escaped, no inline script).
        "client_config": {
            "token": user.token,
            "exp": user.claims.get("exp"),
            "base": f"/{variant.slug}",
            "isAdmin": user.is_admin,
            "frameAncestors": list(settings.CLOCKIFY_FRAME_ANCESTORS),
        },
    }


def _refresh_page(request: HttpRequest, variant: Variant, reason: str, status: int) -> HttpResponse:
    context = {
        "variant": variant,
        "reason": reason,
        "client_config": {"frameAncestors": list(settings.CLOCKIFY_FRAME_ANCESTORS), "base": f"/{variant.slug}"},
    }
    return render(request, "ui/refresh.html", context, status=status)


def iframe_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A GET page: verify the token (else the refresh page, 401), call ``view(request, user, ...)``."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, variant: Variant, **kwargs: Any) -> HttpResponse:
        try:
            user = authenticate_iframe_user(request, variant)
        except IframeAuthError as exc:
            logger.info("ui_page_auth_failed", extra={"variant": variant.slug, "reason": exc.reason})
            return _secure(_refresh_page(request, variant, exc.reason, exc.status))
        try:
            response = view(request, user, *args, **kwargs)
        except Http404 as exc:  # rendered in the frame (Django's own 404 page would be framed-out)
            context = page_context(request, user, active="")
            context["message"] = str(exc) or "This page does not exist."
            response = render(request, "ui/not_found.html", context, status=404)
        return _secure(response)

    return xframe_options_exempt(wrapper)


def iframe_xhr(*, admin: bool = False) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """A JSON/fragment endpoint behind a page: Bearer token; ``admin`` refuses non-admins (403).

    CSRF protection is off on purpose: these requests authenticate with a header a cross-site
    form cannot set, and the pages use no cookies for a forged request to ride on.
    """

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, variant: Variant, **kwargs: Any) -> HttpResponse:
            try:
                user = authenticate_iframe_user(request, variant)
            except IframeAuthError as exc:
                logger.info("ui_xhr_auth_failed", extra={"variant": variant.slug, "reason": exc.reason})
                response = JsonResponse({"error": exc.reason}, status=exc.status)
                response["WWW-Authenticate"] = 'Bearer realm="clockify-addon"'
                return _secure(response)
            if admin and not user.is_admin:
                return _secure(JsonResponse({"error": "admin_required"}, status=403))
            return _secure(view(request, user, *args, **kwargs))

        return xframe_options_exempt(csrf_exempt(wrapper))

    return decorate


def unavailable(feature: str) -> dict[str, Any]:
    """Context for a section whose backend is not installed in this build."""
    return {"unavailable": True, "feature": feature}


def admin_only_page(request: HttpRequest, user: IframeUser, *, active: str, message: str) -> HttpResponse:
    """What a non-admin sees instead of an admin-only page (403)."""
    context = page_context(request, user, active=active)
    context["message"] = message
    return render(request, "ui/forbidden.html", context, status=403)
