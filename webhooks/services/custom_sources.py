"""Custom webhook sources (Universal Webhook): create, rotate, revoke, and verify signatures.

Secrets look like Standard Webhooks' ``whsec_<base64 of 32 random bytes>`` and are shown once.
Verification accepts either scheme, signed with the secret as shown:
- Standard Webhooks: ``webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>``
  (several space-separated signatures allowed), key = the base64-decoded part after ``whsec_``,
  ``webhook-timestamp`` within ``WEBHOOK_CUSTOM_TOLERANCE_SECONDS`` of now.
- ``X-Signature: sha256=<hex HMAC-SHA256(secret string, "<timestamp>.<body>")>`` with
  ``X-Signature-Timestamp: <unix seconds>``, also within the tolerance.

Replays: every accepted request carries a signed timestamp, so a captured one is refused once it
is older than the tolerance, and before that it is a duplicate of itself: Standard Webhooks
requests are identified by their signed ``webhook-id``, X-Signature ones by their signed
timestamp and body. An unsigned header (a ``webhook-id`` next to an X-Signature) never counts.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from addons.variants import Feature
from installations import crypto
from installations.models import Installation
from webhooks.models import CustomSource, CustomSourceSecret

logger = logging.getLogger("webhooks.custom_sources")

SECRET_PREFIX = "whsec_"


class CustomSourceError(ValueError):
    """A request the service refuses (feature not in the plan, duplicate name, ...)."""


class SignatureError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _store_secret(source: CustomSource) -> str:
    plaintext = _new_secret()
    CustomSourceSecret.objects.create(
        source=source, secret_encrypted=crypto.encrypt(plaintext), hint=plaintext[: len(SECRET_PREFIX) + 4]
    )
    return plaintext


@transaction.atomic
def custom_source_create(*, installation: Installation, name: str) -> tuple[CustomSource, str]:
    """Create a source; returns it and its secret, which is never retrievable again."""
    if not installation.variant_spec.allows(Feature.CUSTOM_WEBHOOKS):
        raise CustomSourceError("custom webhooks are not part of this add-on's plan")
    if installation.is_deleted:
        raise CustomSourceError("installation is deleted")
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise CustomSourceError("name: 1 to 100 characters")
    try:
        with transaction.atomic():
            source = CustomSource.objects.create(
                installation=installation, name=name, public_id=secrets.token_urlsafe(18)
            )
    except IntegrityError:
        raise CustomSourceError("name: a source with this name exists") from None
    secret = _store_secret(source)
    logger.info("custom_source_created", extra={"installation_id": installation.pk, "source": source.public_id})
    return source, secret


@transaction.atomic
def custom_source_rotate_secret(*, source: CustomSource, grace_seconds: int | None = None) -> str:
    """Add a new secret; the current ones keep working for ``grace_seconds`` (0 = stop now)."""
    source = CustomSource.objects.select_for_update().get(pk=source.pk)
    if source.is_revoked:
        raise CustomSourceError("source is revoked")
    now = timezone.now()
    grace = settings.WEBHOOK_SECRET_ROTATION_GRACE_SECONDS if grace_seconds is None else grace_seconds
    until = now + timedelta(seconds=max(grace, 0))
    for old in source.secrets.filter(revoked_at__isnull=True):
        if old.expires_at is None or old.expires_at > until:
            old.expires_at = until
            old.save(update_fields=["expires_at"])
    secret = _store_secret(source)
    logger.info("custom_source_secret_rotated", extra={"source": source.public_id, "grace_seconds": grace})
    return secret


@transaction.atomic
def custom_source_revoke(*, source: CustomSource) -> CustomSource:
    """Refuse every further request to this source (its events are kept)."""
    source = CustomSource.objects.select_for_update().get(pk=source.pk)
    if source.revoked_at is None:
        source.revoked_at = timezone.now()
        source.save(update_fields=["revoked_at"])
        source.secrets.filter(revoked_at__isnull=True).update(revoked_at=source.revoked_at)
        logger.info("custom_source_revoked", extra={"source": source.public_id})
    return source


def custom_source_secret_revoke(*, secret: CustomSourceSecret) -> CustomSourceSecret:
    if secret.revoked_at is None:
        secret.revoked_at = timezone.now()
        secret.save(update_fields=["revoked_at"])
    return secret


def custom_source_delete(*, source: CustomSource) -> None:
    """Delete a source and its secrets; its logged events stay (custom_source becomes NULL)."""
    source.delete()


# --- verification -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifiedRequest:
    scheme: str  # "standard" | "x-signature"
    message_id: str  # what the signature covers that identifies the delivery (see delivery_key)

    def delivery_key(self, source_pk: int) -> str:
        """The dedupe key of this delivery: the same for a replay of it, new for another one."""
        from webhooks.services.ingest import id_dedupe_key

        if self.scheme == "standard":  # the key of the releases that deduped on webhook-id alone
            return id_dedupe_key("custom", str(source_pk), self.message_id)
        return id_dedupe_key("custom", str(source_pk), self.scheme, self.message_id)


def _active_secrets(source: CustomSource) -> list[str]:
    now = timezone.now()
    return [crypto.decrypt(s.secret_encrypted) for s in source.secrets.all() if s.is_active(now)]


def _standard_key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret[len(SECRET_PREFIX):] if secret.startswith(SECRET_PREFIX) else secret)
    except (binascii.Error, ValueError):
        return secret.encode()


def _fresh_timestamp(timestamp: str, now: float | None) -> None:
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise SignatureError("bad_timestamp") from None
    if abs((now if now is not None else time.time()) - sent_at) > settings.WEBHOOK_CUSTOM_TOLERANCE_SECONDS:
        raise SignatureError("stale_timestamp")


def verify_signature(*, source: CustomSource, headers, body: bytes, now: float | None = None) -> VerifiedRequest:
    """Check a request's signature against the source's active secrets, or raise ``SignatureError``."""
    standard = headers.get("webhook-signature")
    x_signature = headers.get("x-signature")
    if not standard and not x_signature:
        raise SignatureError("missing_signature")
    active = _active_secrets(source)
    if not active:
        raise SignatureError("no_active_secret")
    if standard:
        webhook_id = (headers.get("webhook-id") or "").strip()
        timestamp = (headers.get("webhook-timestamp") or "").strip()
        if not webhook_id or not timestamp:
            raise SignatureError("missing_webhook_headers")
        _fresh_timestamp(timestamp, now)
        signed = f"{webhook_id}.{timestamp}.".encode() + body
        offered = [part.split(",", 1)[1] for part in standard.split() if part.startswith("v1,")]
        for secret in active:
            expected = base64.b64encode(hmac.new(_standard_key(secret), signed, hashlib.sha256).digest()).decode()
            if any(hmac.compare_digest(expected, candidate) for candidate in offered):
                return VerifiedRequest("standard", webhook_id)
        raise SignatureError("bad_signature")
    timestamp = (headers.get("x-signature-timestamp") or "").strip()
    if not timestamp:
        raise SignatureError("missing_timestamp")
    _fresh_timestamp(timestamp, now)
    value = x_signature.strip()
    if not value.lower().startswith("sha256="):
        raise SignatureError("bad_signature")
    offered_hex = value[len("sha256="):].strip().lower()
    signed = f"{timestamp}.".encode() + body
    for secret in active:
        expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
        if hmac.compare_digest(expected, offered_hex):
            return VerifiedRequest("x-signature", f"{timestamp}.{hashlib.sha256(body).hexdigest()}")
    raise SignatureError("bad_signature")
