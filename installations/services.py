"""Installation writes: the only code that creates or changes installations."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from addons.catalog import EVENTS
from addons.clockify.client import ClockifyClient, ClockifyError
from addons.manifest import webhook_path
from addons.settings_schema import coerce_settings
from addons.variants import Variant
from installations import crypto, hooks, signals
from installations.models import Installation, InstallationStatus, WebhookSubscription

logger = logging.getLogger("installations.services")


@dataclass(frozen=True)
class WebhookRegistration:
    path: str
    webhook_type: str
    auth_token: str


class InstallationInputError(ValueError):
    """Input that cannot be applied (a status other than ACTIVE or INACTIVE)."""


_URL_CLAIMS = {
    "backendUrl": "backend_url",
    "reportsUrl": "reports_url",
    "locationsUrl": "locations_url",
    "screenshotsUrl": "screenshots_url",
    "ptoUrl": "pto_url",
}


def _relative_webhook_path(variant: Variant, path: str) -> str:
    """Clockify sends the full URL (baseUrl + path); keep the part relative to the variant."""
    url_path = urlsplit(path).path if "://" in path else path
    marker = f"/{variant.slug}/"
    if marker in url_path:
        url_path = "/" + url_path.split(marker, 1)[1]
    return "/" + url_path.strip("/")


def _event_for_path(variant: Variant, relative_path: str) -> str | None:
    """The add-on event whose webhook is at ``relative_path``, or ``None`` for a path this code
    does not serve (Clockify sends the published manifest's webhooks, older or newer than us)."""
    for event in variant.manifest_events:
        if webhook_path(event) == relative_path:
            return event
    return None


def _subscriptions(variant: Variant, registrations: list[WebhookRegistration], *, workspace_id: str) -> list[tuple]:
    """(relative path, event, hook) for each webhook this code serves; the others are logged and skipped."""
    result = []
    for hook in registrations:
        relative = _relative_webhook_path(variant, hook.path)
        event = _event_for_path(variant, relative)
        if event is None:
            logger.warning("installation_webhook_path_unknown",
                           extra={"variant": variant.slug, "workspace_id": workspace_id, "path": relative[:200]})
            continue
        result.append((relative, event, hook))
    return result


def _send_signal(signal: Any, installation: Installation) -> None:
    transaction.on_commit(lambda: signal.send(sender=Installation, installation=installation))


@transaction.atomic
def installation_install(
    *,
    variant: Variant,
    workspace_id: str,
    addon_id: str,
    auth_token: str,
    token_claims: dict[str, Any],
    api_url: str,
    as_user: str,
    addon_user_id: str,
    webhooks: list[WebhookRegistration],
) -> Installation:
    """Store (or replace) the installation for this variant and workspace. Idempotent."""
    subscriptions = _subscriptions(variant, webhooks, workspace_id=workspace_id)

    now = timezone.now()
    installation = (
        Installation.objects.select_for_update().filter(variant=variant.slug, workspace_id=workspace_id).first()
    )
    if installation is None:
        installation = Installation(variant=variant.slug, workspace_id=workspace_id, installed_at=now)
    elif installation.is_deleted:
        installation.installed_at = now
        installation.settings = {}
    installation.addon_id = addon_id
    installation.as_user = as_user
    installation.addon_user_id = addon_user_id
    installation.owner_user_id = str(token_claims.get("user", ""))
    installation.api_url = api_url
    # API bases come from the installation token's signed claims only; the body's apiUrl is kept
    # for support staff and never called.
    for claim, field_name in _URL_CLAIMS.items():
        setattr(installation, field_name, str(token_claims.get(claim, "") or ""))
    installation.token_encrypted = crypto.encrypt(auth_token)
    installation.status = InstallationStatus.ACTIVE
    installation.status_changed_at = now
    installation.deleted_at = None
    installation.save()

    installation.webhook_subscriptions.all().delete()
    WebhookSubscription.objects.bulk_create(
        WebhookSubscription(
            installation=installation,
            event=event,
            path=relative,
            token_sha256=crypto.token_hash(hook.auth_token),
            webhook_type=hook.webhook_type,
        )
        for relative, event, hook in subscriptions
    )
    logger.info(
        "installation_installed",
        extra={"variant": variant.slug, "workspace_id": workspace_id, "webhooks": len(subscriptions)},
    )
    _send_signal(signals.installation_installed, installation)
    return installation


def installation_delete(*, installation: Installation) -> Installation:
    """Wipe the tokens and stop all processing. Data is kept for the retention grace period.

    Before-delete hooks (``installations.hooks``) run first, while the token still exists (outside
    the transaction: they may call Clockify)."""
    if not installation.is_deleted:
        hooks.run_before_delete(installation=installation)
    return _installation_mark_deleted(installation=installation)


@transaction.atomic
def _installation_mark_deleted(*, installation: Installation) -> Installation:
    installation = Installation.objects.select_for_update().get(pk=installation.pk)
    if installation.is_deleted:
        return installation
    installation.token_encrypted = ""
    installation.status = InstallationStatus.DELETED
    installation.deleted_at = timezone.now()
    installation.status_changed_at = installation.deleted_at
    installation.save()
    installation.webhook_subscriptions.all().delete()
    logger.info("installation_deleted", extra={"variant": installation.variant, "workspace_id": installation.workspace_id})
    _send_signal(signals.installation_deleted, installation)
    return installation


def installation_refresh_webhook_tokens(*, installation: Installation) -> int:
    """Learn webhook tokens INSTALLED did not carry (a webhook a later manifest version added, or a
    lost token) from ``getAddonWebhooks``; returns how many paths got a new token.

    Called from the webhook endpoint when a genuine token arrives at a path with no stored token,
    so it is bounded: at most once per ``WEBHOOK_TOKEN_REFRESH_INTERVAL_SECONDS`` per installation
    (shared by every process through the cache), one attempt, short timeouts."""
    from django.conf import settings
    from django.core.cache import cache

    from addons.clockify.client import ClockifyClient, ClockifyError

    ctx = {"workspace_id": installation.workspace_id, "variant": installation.variant}
    gate = f"webhook-token-refresh:{installation.pk}:{installation.addon_id}"
    if not cache.add(gate, 1, timeout=settings.WEBHOOK_TOKEN_REFRESH_INTERVAL_SECONDS):
        logger.info("webhook_token_refresh_throttled", extra=ctx)
        return 0
    client = ClockifyClient.for_installation(installation)
    client.max_retries, client.timeout, client.rate_limit_timeout = 0, (2.0, 4.0), 2.0
    path = f"/v1/workspaces/{installation.workspace_id}/addons/{installation.addon_id}/webhooks"
    try:
        response = client.get(path)
        body = response.json() if response.ok else None
    except (ClockifyError, ValueError) as exc:
        logger.warning("webhook_token_refresh_failed", extra={**ctx, "error": type(exc).__name__})
        return 0
    listed = body.get("webhooks") if isinstance(body, dict) else None
    if not isinstance(listed, list):
        logger.warning("webhook_token_refresh_failed", extra={**ctx, "status": response.status})
        return 0
    registrations = [
        WebhookRegistration(path=str(h.get("url") or h.get("path")), webhook_type="ADDON", auth_token=h["authToken"])
        for h in listed
        if isinstance(h, dict) and isinstance(h.get("authToken"), str) and h["authToken"]
        and isinstance(h.get("url") or h.get("path"), str)
    ]
    learned = 0
    with transaction.atomic():
        current = dict(installation.webhook_subscriptions.values_list("path", "token_sha256"))
        for relative, event, hook in _subscriptions(installation.variant_spec, registrations,
                                                    workspace_id=installation.workspace_id):
            digest = crypto.token_hash(hook.auth_token)
            if current.get(relative) != digest:
                WebhookSubscription.objects.update_or_create(
                    installation=installation, path=relative,
                    defaults={"event": event, "token_sha256": digest, "webhook_type": hook.webhook_type})
                learned += 1
    logger.info("webhook_tokens_refreshed", extra={**ctx, "webhooks": len(registrations), "learned": learned})
    return learned


def parse_settings(*, installation: Installation, items: list[Any], source: str = "settings_updated") -> dict[str, Any]:
    """Typed values of Clockify's ``[{id, name, value}]``, each coerced on its own: a number out of
    bounds is clamped, a value of the wrong type or an unknown id is skipped; each logged by id."""
    result = coerce_settings(installation.variant_spec.setting_specs, items)
    ctx = {"workspace_id": installation.workspace_id, "variant": installation.variant, "source": source}
    for setting_id in result.clamped:
        logger.info("installation_setting_clamped", extra={**ctx, "setting_id": setting_id})
    for setting_id in result.skipped:
        logger.warning("installation_setting_skipped", extra={**ctx, "setting_id": setting_id})
    for setting_id in result.unknown:
        logger.info("installation_setting_unknown", extra={**ctx, "setting_id": setting_id})
    return result.values


@transaction.atomic
def installation_update_settings(*, installation: Installation, values: dict[str, Any]) -> Installation:
    installation = Installation.objects.select_for_update().get(pk=installation.pk)
    installation.settings = {**installation.settings, **values}
    installation.save(update_fields=["settings", "updated_at"])
    logger.info("installation_settings_updated", extra={"workspace_id": installation.workspace_id, "ids": sorted(values)})
    _send_signal(signals.installation_settings_updated, installation)
    return installation


@transaction.atomic
def installation_change_status(*, installation: Installation, status: str) -> Installation:
    if status not in (InstallationStatus.ACTIVE, InstallationStatus.INACTIVE):
        raise InstallationInputError("status: must be ACTIVE or INACTIVE")
    installation = Installation.objects.select_for_update().get(pk=installation.pk)
    if installation.status != status:
        installation.status = status
        installation.status_changed_at = timezone.now()
        installation.save(update_fields=["status", "status_changed_at", "updated_at"])
        _send_signal(signals.installation_status_changed, installation)
    return installation


def installation_rotate_token_encryption(*, batch_size: int = 500) -> int:
    """Re-encrypt every stored token with the newest key; returns how many rows changed."""
    count = 0
    for installation in Installation.objects.exclude(token_encrypted="").only("pk", "token_encrypted").iterator(
        chunk_size=batch_size
    ):
        Installation.objects.filter(pk=installation.pk).update(token_encrypted=crypto.rotate(installation.token_encrypted))
        count += 1
    return count


# Every event name in the catalogue is a valid webhook path owner; used by admin and the stand-in.
KNOWN_EVENTS = frozenset(EVENTS)
