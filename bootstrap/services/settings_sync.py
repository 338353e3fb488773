"""The first bootstrap step: read the installation's structured settings from Clockify
(``GET {backendUrl}/addon/workspaces/{workspaceId}/settings``) and store them."""

from __future__ import annotations

import logging
from typing import Any, Iterator

from addons.settings_schema import SettingValueError
from installations.models import Installation
from installations.services import installation_update_settings

logger = logging.getLogger("bootstrap.settings")


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
    """Map Clockify's settings document to typed values by setting id. Ids the variant does not
    declare are ignored; a value that does not coerce is skipped (and logged by id only)."""
    specs = installation.variant_spec.setting_specs
    values: dict[str, Any] = {}
    for item in _walk(body):
        spec = specs.get(str(item.get("id")))
        if spec is None:
            continue
        try:
            values[spec.id] = spec.coerce(item.get("value"))
        except SettingValueError:
            logger.warning("bootstrap_setting_invalid", extra={"setting_id": spec.id,
                                                               "workspace_id": installation.workspace_id})
    return values


def installation_sync_settings(*, installation: Installation, body: Any) -> dict[str, Any]:
    """Store the values that differ from what the installation holds; returns the changed ones."""
    values = settings_values_from_clockify(installation=installation, body=body)
    changed = {k: v for k, v in values.items() if installation.settings.get(k, object()) != v}
    if changed:
        installation_update_settings(installation=installation, values=changed)
    return changed
