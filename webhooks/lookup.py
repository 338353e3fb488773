"""Hot-path caches: verified webhook tokens and the (variant, workspace) -> installation lookup.

Both are per process and bounded:
- A verified token's claims are cached under the sha256 of the token (never the token itself),
  keyed also by the public-key settings and add-on key, so a key change invalidates them.
  Clockify's webhook tokens do not expire; a token with ``exp`` is cached only until then.
- The installation record (id + path -> webhook token hash) is cached for
  ``WEBHOOK_LOOKUP_CACHE_SECONDS``. It is only an index: the installation's status is read again
  in the statement that stores the event (services.ingest), so a deleted or deactivated
  installation takes effect at once. A token the cached record does not know triggers one fresh
  read, so a re-installation's new tokens work immediately.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from addons.tokens import ACCEPTS_WEBHOOK, TokenError, verify_clockify_token
from addons.variants import Variant
from installations.models import Installation, InstallationStatus, WebhookSubscription

_MAX_ENTRIES = 10_000


class _LRU:
    def __init__(self, max_entries: int = _MAX_ENTRIES) -> None:
        self._data: OrderedDict[Any, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_entries

    def get(self, key: Any) -> Any | None:
        with self._lock:
            item = self._data.get(key)
            if item is None:
                return None
            if item[0] <= time.monotonic():
                del self._data[key]
                return None
            self._data.move_to_end(key)
            return item[1]

    def set(self, key: Any, value: Any, ttl: float) -> None:
        if ttl <= 0:
            return
        with self._lock:
            self._data[key] = (time.monotonic() + ttl, value)
            self._data.move_to_end(key)
            while len(self._data) > self._max:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


_verified = _LRU()
_records = _LRU()

_NO_EXPIRY_TTL = 3600.0  # re-verify now and then even when nothing changes


def clear_caches() -> None:
    _verified.clear()
    _records.clear()


def verified_claims(token: str, token_sha256: str, *, variant: Variant, log_context: dict) -> dict[str, Any]:
    """Claims of a genuine Clockify webhook token for this variant, or ``TokenError`` (another
    kind of token, e.g. a member's user token, is ``wrong_token_kind`` and never cached)."""
    key = (
        token_sha256, variant.key, settings.CLOCKIFY_PUBLIC_KEY, settings.CLOCKIFY_PUBLIC_KEY_FILE,
        settings.REQUIRE_SIGNATURE_VERIFICATION,
    )
    claims = _verified.get(key)
    if claims is not None:
        return claims
    claims = verify_clockify_token(token, expected_sub=variant.key, accept=ACCEPTS_WEBHOOK,
                                   log_context=log_context).claims
    if not claims.get("workspaceId") or not isinstance(claims.get("workspaceId"), str):
        raise TokenError("missing_workspace")
    ttl = _NO_EXPIRY_TTL
    if isinstance(claims.get("exp"), (int, float)):
        ttl = min(ttl, float(claims["exp"]) - time.time())
    _verified.set(key, claims, ttl)
    return claims


@dataclass(frozen=True)
class InstallationRecord:
    installation_id: int
    addon_id: str
    hooks: dict[str, str]  # relative path -> sha256 of the webhook token registered for it

    def knows_token(self, token_sha256: str) -> bool:
        return token_sha256 in self.hooks.values()


def _load(variant: Variant, workspace_id: str) -> InstallationRecord | None:
    installation = (
        Installation.objects.filter(variant=variant.slug, workspace_id=workspace_id)
        .exclude(status=InstallationStatus.DELETED)
        .only("pk", "addon_id")
        .first()
    )
    if installation is None:
        return None
    hooks = dict(
        WebhookSubscription.objects.filter(installation_id=installation.pk).values_list("path", "token_sha256")
    )
    return InstallationRecord(installation_id=installation.pk, addon_id=installation.addon_id, hooks=hooks)


def installation_record(*, variant: Variant, workspace_id: str, fresh: bool = False) -> InstallationRecord | None:
    key = (variant.slug, workspace_id)
    if not fresh:
        record = _records.get(key)
        if record is not None:
            return record
    record = _load(variant, workspace_id)
    if record is not None:
        _records.set(key, record, settings.WEBHOOK_LOOKUP_CACHE_SECONDS)
    return record


@dataclass(frozen=True)
class WorkspaceWebhookRecord:
    installation_id: int
    workspace_id: str


def workspace_webhook_record(*, variant: Variant, event: str, token_sha256: str) -> WorkspaceWebhookRecord | None:
    """The live installation that registered a workspace webhook for ``event`` with this token.

    Not cached: these events are rare, and a webhook removed (setting off, INACTIVE, DELETED) must
    stop being accepted at once. An indexed lookup by the token's hash (a hash of a secret only
    Clockify and we know; equality on it cannot be timed into a guess)."""
    from webhooks.models import WorkspaceWebhook

    row = (
        WorkspaceWebhook.objects.filter(token_sha256=token_sha256, event=event, installation__variant=variant.slug)
        .exclude(token_sha256="")
        .exclude(installation__status=InstallationStatus.DELETED)
        .values("installation_id", "installation__workspace_id")
        .first()
    )
    if row is None:
        return None
    return WorkspaceWebhookRecord(installation_id=row["installation_id"], workspace_id=row["installation__workspace_id"])
