"""Webhook endpoints: Clockify's (one path per event) and custom sources'.

Order of checks (DESIGN.md section 5), each with its own status and ``reason`` log key:
body size (413) -> installation, signature and stored token (401) -> event type header (400) ->
plan (403) -> JSON (400) -> ingestion rate (429) -> store once (duplicate 200) -> 200.
Processing is enqueued once the event is stored. Clockify is called from here only for a genuine
token at a path with no stored token (``getAddonWebhooks``, once per interval per installation,
short timeouts): the one case where refusing would need a reinstall to recover.

The 9 API-only events (Universal Webhook) come from workspace webhooks the platform registered:
their token is the opaque ``authToken`` createWebhook returned, matched by its stored hash.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from addons.catalog import EVENTS_BY_SLUG
from addons.tokens import TokenError
from addons.variants import Feature, Variant
from installations.crypto import token_hash
from installations.models import Installation
from installations.selectors import effective_settings
from installations.services import installation_refresh_webhook_tokens
from webhooks import lookup, ratelimit
from webhooks.derive import derive_ids
from webhooks.models import CustomSource, EventSource
from webhooks.services import SignatureError, StoreOutcome, verify_signature, webhook_event_store
from webhooks.services.ingest import PayloadError, parse_body, safe_headers, window_dedupe_keys

logger = logging.getLogger("webhooks.ingest")

_OUTCOME_STATUS = {StoreOutcome.ACCEPTED: "accepted", StoreOutcome.SKIPPED: "skipped",
                   StoreOutcome.DUPLICATE: "duplicate"}


@lru_cache(maxsize=4096)
def _counter(variant: str, event: str, status: str):
    from addons.metrics import WEBHOOKS_RECEIVED

    return WEBHOOKS_RECEIVED.labels(variant, event, status)


def _count(variant: str, event: str, status: int | str) -> None:
    try:
        _counter(variant, event, str(status)).inc()
    except Exception:  # metrics are best effort
        pass


def _reject(status: int, reason: str, detail: str, ctx: dict, **headers: str) -> JsonResponse:
    logger.info("webhook_rejected", extra={"reason": reason, "status": status, **ctx})
    _count(ctx["variant"], ctx["event"], status)
    response = JsonResponse({"error": reason, "detail": detail}, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _read_body(request: HttpRequest) -> bytes | None:
    """The body, or None when it is over the limit (checked on Content-Length before reading)."""
    limit = settings.WEBHOOK_MAX_BODY_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return None
    body = request.body
    return None if len(body) > limit else body


def _method_not_allowed() -> JsonResponse:
    response = JsonResponse({"error": "method_not_allowed"}, status=405)
    response["Allow"] = "POST"
    return response


def _accepted(result, ctx: dict) -> JsonResponse:
    status = _OUTCOME_STATUS[result.outcome]
    logger.debug("webhook_stored", extra={"outcome": status, "event_id": result.event_id, **ctx})
    _count(ctx["variant"], ctx["event"], status)
    return JsonResponse({"status": status})


@dataclass(frozen=True)
class _Sender:
    """Who a Clockify webhook verifiably comes from."""

    installation_id: int
    workspace_id: str


@csrf_exempt
def clockify_webhook(request: HttpRequest, variant: Variant, event_slug: str) -> JsonResponse:
    if request.method != "POST":
        return _method_not_allowed()
    spec = EVENTS_BY_SLUG.get(event_slug)
    ctx = {"variant": variant.slug, "event": spec.name if spec else "unknown"}
    body = _read_body(request)
    if body is None:
        return _reject(413, "body_too_large", f"body over {settings.WEBHOOK_MAX_BODY_BYTES} bytes", ctx)
    if spec is None:
        return _reject(401, "unknown_path", "no webhook at this path", ctx)

    token = request.headers.get("clockify-signature")
    if not token:
        return _reject(401, "missing_signature", "clockify-signature header missing", ctx)
    token_sha = token_hash(token)
    if spec.name in variant.workspace_webhook_events:
        sender = _workspace_webhook_sender(variant, spec.name, token_sha, ctx)
    else:
        sender = _addon_webhook_sender(variant, f"/webhooks/{event_slug}", spec.name, token, token_sha, ctx)
    if isinstance(sender, JsonResponse):
        return sender

    event_type = request.headers.get("clockify-webhook-event-type")
    if not event_type:
        return _reject(400, "missing_event_type", "clockify-webhook-event-type header missing", ctx)
    if event_type != spec.name:
        return _reject(400, "event_type_mismatch", "event type header does not match the path", ctx)
    if not variant.subscribes(spec.name):
        return _reject(403, "event_not_in_plan", f"{spec.name} is not part of this add-on's plan", ctx)
    try:
        parsed = parse_body(body, require_object=True)
    except PayloadError as exc:
        return _reject(400, exc.reason, exc.detail, ctx)
    decision = ratelimit.check(sender.installation_id)
    if not decision.allowed:
        return _reject(429, "rate_limited", "ingestion rate exceeded", ctx,
                       Retry_After=str(decision.retry_after_seconds))

    key, previous_key = window_dedupe_keys(spec.name, body=body)
    result = webhook_event_store(
        installation_id=sender.installation_id,
        source=EventSource.CLOCKIFY,
        event_type=spec.name,
        headers=safe_headers(request.headers),
        body=parsed,
        ids=derive_ids(spec.name, parsed.payload, default_workspace_id=sender.workspace_id),
        dedupe_key=key,
        previous_dedupe_key=previous_key,
    )
    if result.outcome is StoreOutcome.GONE:
        return _reject(401, "installation_deleted", "the installation was deleted", ctx)
    return _accepted(result, ctx)


def _addon_webhook_sender(variant: Variant, path: str, event: str, token: str, token_sha: str,
                          ctx: dict) -> _Sender | JsonResponse:
    """An add-on webhook: a Clockify-signed token for this add-on, equal to the one stored for the path."""
    try:
        claims = lookup.verified_claims(token, token_sha, variant=variant, log_context=ctx)
    except TokenError as exc:
        return _reject(401, exc.reason, "webhook token rejected", ctx)
    record = lookup.installation_record(variant=variant, workspace_id=claims["workspaceId"])
    if record is not None and not _token_known(record, path, token_sha):
        # Maybe re-installed since we cached it: read once more before refusing.
        record = lookup.installation_record(variant=variant, workspace_id=claims["workspaceId"], fresh=True)
    if record is None:
        return _reject(401, "unknown_installation", "no installation of this add-on for the workspace", ctx)
    if claims.get("addonId") and claims["addonId"] != record.addon_id:
        return _reject(401, "addon_mismatch", "token belongs to another installation", ctx)
    if path not in record.hooks and event in variant.manifest_events:
        # No token stored for a webhook of our manifest: added by a later manifest version, or lost.
        # Clockify lists each webhook's token (getAddonWebhooks): ask once (rate-limited) before refusing.
        if _learn_webhook_tokens(record.installation_id):
            record = lookup.installation_record(variant=variant, workspace_id=claims["workspaceId"], fresh=True)
        if record is None or path not in record.hooks:
            return _reject(401, "unknown_path", "no webhook token known for this path", ctx)
    if not _token_known(record, path, token_sha):
        return _reject(401, "token_mismatch", "not the webhook token stored for this path", ctx)
    return _Sender(record.installation_id, claims["workspaceId"])


def _learn_webhook_tokens(installation_id: int) -> bool:
    installation = Installation.objects.filter(pk=installation_id).first()
    if installation is None or installation.is_deleted:
        return False
    return installation_refresh_webhook_tokens(installation=installation) > 0


def _workspace_webhook_sender(variant: Variant, event: str, token_sha: str, ctx: dict) -> _Sender | JsonResponse:
    """A workspace webhook the platform registered (API-only events): its token is an opaque secret
    Clockify gave us in createWebhook's answer, so the stored hash is what identifies the sender."""
    record = lookup.workspace_webhook_record(variant=variant, event=event, token_sha256=token_sha)
    if record is None:
        return _reject(401, "unknown_webhook_token", "not the token of a workspace webhook registered here", ctx)
    return _Sender(record.installation_id, record.workspace_id)


def _token_known(record: lookup.InstallationRecord, path: str, token_sha: str) -> bool:
    """The token is the one stored for this path; for a path the installation has no webhook at
    (an event outside the plan), any of its webhook tokens, so the plan check can answer 403."""
    expected = record.hooks.get(path)
    if expected is not None:
        return hmac.compare_digest(expected, token_sha)
    return any(hmac.compare_digest(stored, token_sha) for stored in record.hooks.values())


@csrf_exempt
def custom_webhook(request: HttpRequest, variant: Variant, source_id: str) -> JsonResponse:
    if request.method != "POST":
        return _method_not_allowed()
    ctx = {"variant": variant.slug, "event": "custom"}
    if not variant.allows(Feature.CUSTOM_WEBHOOKS):
        return _reject(404, "not_available", "custom webhooks are not part of this add-on", ctx)
    body = _read_body(request)
    if body is None:
        return _reject(413, "body_too_large", f"body over {settings.WEBHOOK_MAX_BODY_BYTES} bytes", ctx)
    source = (
        CustomSource.objects.select_related("installation").prefetch_related("secrets")
        .filter(public_id=source_id, installation__variant=variant.slug).first()
    )
    if source is None or source.installation.is_deleted:
        return _reject(401, "unknown_source", "no such source", ctx)
    ctx["source"] = source.public_id
    if source.is_revoked:
        return _reject(401, "source_revoked", "this source was revoked", ctx)
    try:
        verified = verify_signature(source=source, headers=request.headers, body=body)
    except SignatureError as exc:
        return _reject(401, exc.reason, "signature rejected", ctx)
    installation = source.installation
    if not effective_settings(installation=installation)["enable_custom_webhooks"]:
        return _reject(403, "custom_webhooks_disabled", "custom webhooks are turned off in the settings", ctx)
    try:
        parsed = parse_body(body, require_object=False)
    except PayloadError as exc:
        return _reject(400, exc.reason, exc.detail, ctx)
    decision = ratelimit.check(installation.pk)
    if not decision.allowed:
        return _reject(429, "rate_limited", "ingestion rate exceeded", ctx,
                       Retry_After=str(decision.retry_after_seconds))

    payload = parsed.payload
    declared_type = payload.get("type") if isinstance(payload, dict) else None
    event_type = declared_type if isinstance(declared_type, str) and 0 < len(declared_type) <= 64 else "custom"
    result = webhook_event_store(
        installation_id=installation.pk,
        source=EventSource.CUSTOM,
        custom_source_id=source.pk,
        event_type=event_type,
        headers=safe_headers(request.headers),
        body=parsed,
        ids=derive_ids(event_type, payload, default_workspace_id=installation.workspace_id),
        # Only what the signature covers identifies the delivery: a replay is a duplicate.
        dedupe_key=verified.delivery_key(source.pk),
    )
    if result.outcome is StoreOutcome.GONE:
        return _reject(401, "installation_deleted", "the installation was deleted", ctx)
    return _accepted(result, ctx)
