"""The first bootstrap step: read the installation's structured settings from Clockify
(``GET {backendUrl}/addon/workspaces/{workspaceId}/settings``) and store them."""

from __future__ import annotations

from typing import Any, Iterator

from installations.models import Installation
from installations.services import installation_update_settings, parse_settings


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every {id, value} setting in Clockify's tabs/groups/settings shape (or a flat list of them)."""
    if isinstance(node, list):
        for child in node:
            yield from _walk(child)
    elif isinstance(node, dict):
        if "id" in node and "value" in node and not any(k in node for k in ("tabs", "groups", "settings")):
            yield node
            return
        for key in ("tabs", "groups", "settings"):
            if key in node:
                yield from _walk(node[key])


def settings_values_from_clockify(*, installation: Installation, body: Any) -> dict[str, Any]:
    """Map Clockify's settings document to typed values by setting id, each coerced on its own
    like SETTINGS_UPDATED (``installations.services.parse_settings``: clamped, skipped, logged by id)."""
    return parse_settings(installation=installation, items=list(_walk(body)), source="bootstrap")


def installation_sync_settings(*, installation: Installation, body: Any) -> dict[str, Any]:
    """Store the values that differ from what the installation holds; returns the changed ones."""
    values = settings_values_from_clockify(installation=installation, body=body)
    changed = {k: v for k, v in values.items() if installation.settings.get(k, object()) != v}
    if changed:
        installation_update_settings(installation=installation, values=changed)
    return changed
