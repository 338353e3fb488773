"""Reactions to installation lifecycle signals: keep the API-only events' workspace webhooks in step.

Connected in ``webhooks.apps``. Signals arrive after the change committed; the sync runs in a
worker (it calls Clockify). DELETED is handled before the token is wiped (a before-delete hook).
"""

from __future__ import annotations

from typing import Any

from addons.variants import Feature
from config.enqueue import enqueue_on_commit
from installations.models import Installation
from webhooks.services.workspace_webhooks import workspace_webhooks_remove_at_uninstall, workspace_webhooks_wanted


def request_workspace_webhooks_sync(sender: Any = None, *, installation: Installation, **_: Any) -> None:
    """Settings, status or (re)install changed: converge when the installation wants workspace
    webhooks or still has some (to remove them)."""
    from webhooks.tasks import sync_workspace_webhooks

    if not installation.variant_spec.allows(Feature.WORKSPACE_WEBHOOKS):
        return
    installation.refresh_from_db()
    if workspace_webhooks_wanted(installation=installation) or installation.workspace_webhooks.exists():
        enqueue_on_commit(sync_workspace_webhooks, installation.pk)


def remove_workspace_webhooks_before_delete(*, installation: Installation) -> None:
    workspace_webhooks_remove_at_uninstall(installation=installation)
