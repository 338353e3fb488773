"""Workspace webhooks for the events no manifest can list (Universal Webhook, opt-in).

Nine events exist only in Clockify's workspace-webhook API (``addons.catalog``). With the
``enable_workspace_webhooks`` setting on, the platform registers one workspace webhook per event
with the installation token (``createWebhook``, pointed at its own ``/<variant>/webhooks/<slug>``
path), stores the sha256 of each ``authToken`` Clockify returns and accepts deliveries carrying
that token (``webhooks.views``). ``workspace_webhooks_sync`` converges Clockify to what is wanted:

- wanted (feature, setting on, installation ACTIVE): each event has one webhook of ours; one
  Clockify lists as ours (same URL and event) is adopted, extra copies are deleted, a missing one
  (never made, deleted in Clockify, or disabled by Clockify after failed deliveries) is created. Every row says how that went: registered,
  refused by the plan's webhook allowance, or failed, with Clockify's reason.
- not wanted (setting off, INACTIVE): every webhook of ours is deleted in Clockify and its row
  dropped; one Clockify would not delete keeps a row (failed, its token hash cleared so nothing
  it sends is accepted) and is retried on the next sync.

DELETED runs ``workspace_webhooks_remove_at_uninstall`` before the token is wiped, bounded in
time. The task runs it on settings, status and install signals, and hourly for every installation.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache

from addons.clockify.client import ClockifyClient, ClockifyError, ClockifyResponse
from addons.manifest import webhook_path
from addons.variants import Feature
from installations.crypto import token_hash
from installations.models import Installation
from installations.selectors import effective_settings
from webhooks.models import WorkspaceWebhook, WorkspaceWebhookState as State

logger = logging.getLogger("webhooks.workspace")

# A refusal that names the plan or a limit: over the workspace's webhook allowance (or no webhooks on it).
_PLAN_LIMIT_RE = re.compile(r"limit|plan|maximum|exceed|subscription", re.IGNORECASE)
_LOCK_SECONDS = 120
UNINSTALL_BUDGET_SECONDS = 8.0


class WorkspaceWebhooksBusy(Exception):
    """Another process is syncing this installation's workspace webhooks."""


@dataclass
class SyncReport:
    states: dict[str, str] = field(default_factory=dict)  # event -> state after the sync
    removed: int = 0


def workspace_webhooks_wanted(*, installation: Installation) -> bool:
    variant = installation.variant_spec
    return (variant.allows(Feature.WORKSPACE_WEBHOOKS) and bool(variant.workspace_webhook_events)
            and installation.is_active
            and bool(effective_settings(installation=installation)["enable_workspace_webhooks"]))


def target_url(*, installation: Installation, event: str) -> str:
    return f"{installation.variant_spec.base_url}{webhook_path(event)}"


def workspace_webhooks_sync(*, installation_id: int) -> SyncReport:
    """Make Clockify hold exactly the workspace webhooks this installation wants (see the module)."""
    installation = Installation.objects.filter(pk=installation_id).first()
    if installation is None or installation.is_deleted:
        return SyncReport()
    lock = f"workspace-webhooks-sync:{installation.pk}"
    if not cache.add(lock, 1, timeout=_LOCK_SECONDS):
        raise WorkspaceWebhooksBusy(installation.pk)
    try:
        client = ClockifyClient.for_installation(installation)
        if workspace_webhooks_wanted(installation=installation):
            return _register(installation, client)
        return _remove(installation, client)
    finally:
        cache.delete(lock)


def workspace_webhooks_remove_at_uninstall(*, installation: Installation) -> None:
    """DELETED: delete our webhooks in Clockify while the token still exists, within a few seconds
    (Clockify may already refuse the token; what stays is refused by us and disabled by Clockify
    after failed deliveries)."""
    if not installation.workspace_webhooks.exists():
        return
    client = ClockifyClient.for_installation(installation)
    client.max_retries, client.timeout, client.rate_limit_timeout = 0, (2.0, 3.0), 1.0
    report = _remove(installation, client, deadline=time.monotonic() + UNINSTALL_BUDGET_SECONDS)
    logger.info("workspace_webhooks_removed_at_uninstall",
                extra={"workspace_id": installation.workspace_id, "removed": report.removed})


# --- Clockify calls ---------------------------------------------------------------------------------

def _message(response: ClockifyResponse) -> str:
    try:
        body = response.json()
    except ValueError:
        body = None
    message = body.get("message") if isinstance(body, dict) else None
    return str(message)[:300] if message else f"HTTP {response.status}"


def _ours_at_clockify(installation: Installation, client: ClockifyClient) -> dict[str, list[dict[str, Any]]] | None:
    """Our webhooks as Clockify lists them (``getWebhooks``), by event; ``None`` when it cannot tell."""
    try:
        response = client.get(f"/v1/workspaces/{installation.workspace_id}/webhooks")
        body = response.json() if response.ok else None
    except (ClockifyError, ValueError):
        return None
    listed = body.get("webhooks") if isinstance(body, dict) else None
    if not isinstance(listed, list):
        return None
    ours: dict[str, list[dict[str, Any]]] = {}
    for event in installation.variant_spec.workspace_webhook_events:
        url = target_url(installation=installation, event=event)
        ours[event] = [h for h in listed if isinstance(h, dict) and h.get("url") == url
                       and h.get("webhookEvent") == event and isinstance(h.get("id"), str)]
    return ours


def _delete_at_clockify(installation: Installation, client: ClockifyClient, clockify_id: str) -> str:
    """"" when the webhook is gone (deleted now, or already), else why not."""
    try:
        response = client.request("DELETE", f"/v1/workspaces/{installation.workspace_id}/webhooks/{clockify_id}")
    except ClockifyError as exc:
        return f"Clockify unreachable: {exc}"[:300]
    return "" if response.ok or response.status == 404 else _message(response)


def _adopt(row: WorkspaceWebhook, hook: dict[str, Any]) -> None:
    """Store what Clockify says of our webhook: its id, token hash and whether the plan runs it."""
    row.clockify_id = hook["id"][:64]
    if isinstance(hook.get("authToken"), str) and hook["authToken"]:
        row.token_sha256 = token_hash(hook["authToken"])
    if hook.get("planEnabled") is False:
        row.state, row.reason = State.PLAN_LIMIT, "Clockify disabled it: over the workspace plan's webhook limit"
    else:
        row.state, row.reason = State.REGISTERED, ""


def _create(installation: Installation, client: ClockifyClient, row: WorkspaceWebhook) -> None:
    variant = installation.variant_spec
    body = {
        "name": f"{variant.name} {row.event}"[:30],
        "url": target_url(installation=installation, event=row.event),
        "webhookEvent": row.event,
        "triggerSourceType": "WORKSPACE_ID",
        "triggerSource": [installation.workspace_id],
    }
    try:
        response = client.request("POST", f"/v1/workspaces/{installation.workspace_id}/webhooks", json=body)
    except ClockifyError as exc:
        row.state, row.reason = State.FAILED, f"Clockify unreachable: {exc}"[:500]
        return
    try:
        created = response.json() if response.ok else None
    except ValueError:
        created = None
    if isinstance(created, dict) and isinstance(created.get("id"), str) and created.get("authToken"):
        _adopt(row, created)
        return
    row.token_sha256, row.clockify_id = "", ""
    message = _message(response) if not response.ok else "Clockify's answer had no webhook id or token"
    if 400 <= response.status < 500 and _PLAN_LIMIT_RE.search(message):
        row.state, row.reason = State.PLAN_LIMIT, message[:500]
    else:
        row.state, row.reason = State.FAILED, f"HTTP {response.status}: {message}"[:500]


# --- converging ---------------------------------------------------------------------------------

def _register(installation: Installation, client: ClockifyClient) -> SyncReport:
    report = SyncReport()
    ours = _ours_at_clockify(installation, client)
    for event in installation.variant_spec.workspace_webhook_events:
        row, _ = WorkspaceWebhook.objects.get_or_create(installation=installation, event=event)
        listed = (ours or {}).get(event, [])
        # One Clockify stopped delivering (too many failed deliveries) is replaced by a fresh one.
        found = [h for h in listed if h.get("deliveryEnabled") is not False and h.get("enabled") is not False]
        keep = next((h for h in found if h["id"] == row.clockify_id), found[0] if found else None)
        for extra in listed:
            if extra is not keep and not _delete_at_clockify(installation, client, extra["id"]):
                report.removed += 1
        if keep is not None and (keep.get("authToken") or (keep["id"] == row.clockify_id and row.token_sha256)):
            _adopt(row, keep)
        elif ours is None and row.state == State.REGISTERED and row.clockify_id:
            pass  # Clockify could not be asked: keep what we know
        else:
            _create(installation, client, row)
        row.save()
        report.states[event] = row.state
    logger.info("workspace_webhooks_synced", extra={"workspace_id": installation.workspace_id,
                                                    "states": sorted(set(report.states.values()))})
    return report


def _remove(installation: Installation, client: ClockifyClient, *, deadline: float | None = None) -> SyncReport:
    report = SyncReport()
    rows = list(installation.workspace_webhooks.all())
    if rows:  # stop accepting what they send at once, whatever Clockify answers
        installation.workspace_webhooks.update(token_sha256="")
    ours = _ours_at_clockify(installation, client) if deadline is None else None
    known = {row.clockify_id for row in rows}
    strays = [h["id"] for hooks in (ours or {}).values() for h in hooks if h["id"] not in known]
    for clockify_id in strays:
        if not _delete_at_clockify(installation, client, clockify_id):
            report.removed += 1
    for row in rows:
        reason = ""
        if row.clockify_id:
            if deadline is not None and time.monotonic() > deadline:
                reason = "not deleted: out of time at uninstall"
            else:
                reason = _delete_at_clockify(installation, client, row.clockify_id)
        if reason:
            WorkspaceWebhook.objects.filter(pk=row.pk).update(
                state=State.FAILED, token_sha256="", reason=f"could not delete in Clockify: {reason}"[:500])
            report.states[row.event] = State.FAILED
        else:
            row.delete()
            report.removed += 1 if row.clockify_id else 0
    if rows or strays:
        logger.info("workspace_webhooks_removed", extra={"workspace_id": installation.workspace_id,
                                                         "removed": report.removed})
    return report


def installations_to_sync() -> list[int]:
    """Installations whose workspace webhooks may need work: those that want them, and those with rows."""
    from addons.variants import VARIANTS

    slugs = [slug for slug, v in VARIANTS.items() if v.allows(Feature.WORKSPACE_WEBHOOKS)]
    ids = set(WorkspaceWebhook.objects.values_list("installation_id", flat=True).distinct())
    for installation in Installation.objects.filter(variant__in=slugs, status="ACTIVE").iterator(chunk_size=500):
        if installation.pk not in ids and workspace_webhooks_wanted(installation=installation):
            ids.add(installation.pk)
    return sorted(ids)
