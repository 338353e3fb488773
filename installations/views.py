"""Clockify lifecycle endpoints: INSTALLED, DELETED, SETTINGS_UPDATED, STATUS_CHANGED.

Order of checks: token (401) -> body (400) -> token/body workspace agreement (403) ->
INSTALLED's own tokens (401) -> installation state. Every rejection is logged with a reason
key, never with the token, and changes nothing.

Only Clockify drives the lifecycle: the header token must be a lifecycle token
(``ACCEPTS_LIFECYCLE``). A member's user token, the installation token and the webhook tokens
are all Clockify-signed for the workspace too, and are refused as ``wrong_token_kind``.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from addons.tokens import (
    ACCEPTS_INSTALLATION, ACCEPTS_LIFECYCLE, ACCEPTS_WEBHOOK, TokenError, verify_clockify_token,
)
from addons.variants import Variant
from installations import selectors, services
from installations.lifecycle import LifecyclePayload, PayloadError, parse_lifecycle_body
from installations.models import Installation

logger = logging.getLogger("installations.lifecycle")

LIFECYCLE_SLUGS = {
    "installed": "INSTALLED",
    "deleted": "DELETED",
    "settings-updated": "SETTINGS_UPDATED",
    "status-changed": "STATUS_CHANGED",
}


def _reject(status: int, reason: str, detail: str, *, variant: Variant, lifecycle_type: str) -> JsonResponse:
    logger.info("lifecycle_rejected", extra={"reason": reason, "variant": variant.slug, "lifecycle": lifecycle_type})
    return JsonResponse({"error": reason, "detail": detail}, status=status)


def _lifecycle_token(request: HttpRequest) -> str | None:
    return request.headers.get("X-Addon-Lifecycle-Token") or request.headers.get("Clockify-Signature")


@csrf_exempt
@require_POST
def lifecycle(request: HttpRequest, variant: Variant, lifecycle_slug: str) -> JsonResponse:
    lifecycle_type = LIFECYCLE_SLUGS[lifecycle_slug]
    ctx = {"variant": variant, "lifecycle_type": lifecycle_type}
    try:
        token = verify_clockify_token(
            _lifecycle_token(request),
            expected_sub=variant.key,
            accept=ACCEPTS_LIFECYCLE,
            log_context={"variant": variant.slug, "lifecycle": lifecycle_type},
        )
    except TokenError as exc:
        return _reject(401, exc.reason, "lifecycle token rejected", **ctx)
    try:
        payload = parse_lifecycle_body(lifecycle_type, request.body)
    except PayloadError as exc:
        return _reject(400, "bad_payload", exc.detail, **ctx)
    if payload.workspace_id != token.workspace_id:
        return _reject(403, "workspace_mismatch", "token and body name different workspaces", **ctx)
    if payload.addon_id is not None and token.addon_id and payload.addon_id != token.addon_id:
        return _reject(403, "addon_mismatch", "token and body name different add-on installations", **ctx)
    try:
        if lifecycle_type == "INSTALLED":
            return _installed(variant=variant, payload=payload)
        installation = selectors.installation_get_live(variant=variant, workspace_id=payload.workspace_id)
        if installation is not None and token.addon_id and installation.addon_id != token.addon_id:
            return _reject(401, "addon_mismatch", "token does not belong to this installation", **ctx)
        if installation is None:
            if lifecycle_type == "DELETED":  # repeated delivery, or never installed: nothing left to do
                return JsonResponse({"status": "deleted"})
            return _reject(404, "unknown_installation", "no live installation for this workspace", **ctx)
        return _ON_INSTALLATION[lifecycle_type](installation=installation, payload=payload)
    except services.InstallationInputError as exc:
        return _reject(400, "bad_payload", str(exc), **ctx)


def _installed(*, variant: Variant, payload: LifecyclePayload) -> JsonResponse:
    body = payload.body
    ctx = {"variant": variant, "lifecycle_type": payload.lifecycle_type}
    try:
        installation_token = verify_clockify_token(
            body["authToken"],
            expected_sub=variant.key,
            accept=ACCEPTS_INSTALLATION,
            workspace_id=payload.workspace_id,
            addon_id=payload.addon_id,
            log_context={"variant": variant.slug, "lifecycle": "INSTALLED", "field": "authToken"},
        )
    except TokenError as exc:
        return _reject(401, f"installation_token_{exc.reason}", "installation token rejected", **ctx)
    # Each webhook's token is what later authenticates that webhook: Clockify's, for this installation.
    for index, hook in enumerate(body.get("webhooks") or []):
        try:
            verify_clockify_token(
                hook["authToken"],
                expected_sub=variant.key,
                accept=ACCEPTS_WEBHOOK,
                workspace_id=payload.workspace_id,
                addon_id=payload.addon_id,
                log_context={"variant": variant.slug, "lifecycle": "INSTALLED", "field": f"webhooks[{index}].authToken"},
            )
        except TokenError as exc:
            return _reject(401, f"webhook_token_{exc.reason}", f"webhooks[{index}].authToken rejected", **ctx)
    installation = services.installation_install(
        variant=variant,
        workspace_id=payload.workspace_id,
        addon_id=str(body["addonId"]),
        auth_token=body["authToken"],
        token_claims=installation_token.claims,
        api_url=body.get("apiUrl") or "",
        as_user=body.get("asUser") or "",
        addon_user_id=body.get("addonUserId") or "",
        webhooks=[
            services.WebhookRegistration(
                path=h["path"], webhook_type=str(h.get("webhookType") or "ADDON"), auth_token=h["authToken"]
            )
            for h in body.get("webhooks") or []
        ],
    )
    return JsonResponse({"status": "installed", "installation": installation.pk})


def _deleted(*, installation: Installation, payload: LifecyclePayload) -> JsonResponse:
    services.installation_delete(installation=installation)
    return JsonResponse({"status": "deleted"})


def _settings_updated(*, installation: Installation, payload: LifecyclePayload) -> JsonResponse:
    # Clockify has saved the values already: whatever cannot be applied is logged, never a 4xx.
    values = services.parse_settings(installation=installation, items=payload.body["settings"])
    installation = services.installation_update_settings(installation=installation, values=values)
    return JsonResponse({"status": "settings_updated", "settings": selectors.effective_settings(installation=installation)})


def _status_changed(*, installation: Installation, payload: LifecyclePayload) -> JsonResponse:
    installation = services.installation_change_status(installation=installation, status=payload.body["status"])
    return JsonResponse({"status": installation.status})


# Lifecycle types that act on an existing, live installation.
_ON_INSTALLATION = {
    "DELETED": _deleted,
    "SETTINGS_UPDATED": _settings_updated,
    "STATUS_CHANGED": _status_changed,
}
