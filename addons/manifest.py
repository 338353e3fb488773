"""Clockify manifests built from the variant registry.

Schema 1.2: Clockify validates a manifest against the schema of the version it declares, event
names included, and only 1.2's enum holds the 42 add-on events (1.3 and 1.4 list 22). Checked
against the bundled schemas by ``addons.manifest_schema`` (tests, ``manage.py check_manifests``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings

from addons.catalog import EVENTS
from addons.variants import Variant

LIFECYCLE_TYPES = ("INSTALLED", "DELETED", "SETTINGS_UPDATED", "STATUS_CHANGED")
SCHEMA_VERSION = "1.2"
ICON_PATH = "/icon.svg"  # served by addons.views.icon from static/addons/<variant>.svg


def lifecycle_path(lifecycle_type: str) -> str:
    return f"/lifecycle/{lifecycle_type.lower().replace('_', '-')}"


def webhook_path(event: str) -> str:
    """One path per event, so a stored webhook token maps to exactly one event."""
    return f"/webhooks/{EVENTS[event].slug}"


def sidebar_path() -> str:
    return "/ui/dashboard"


def build_manifest(variant: Variant, *, base_url: str | None = None) -> dict[str, Any]:
    return {
        "schemaVersion": SCHEMA_VERSION,
        "key": variant.key,
        "name": variant.name,
        "description": variant.description,
        "baseUrl": base_url if base_url is not None else variant.base_url,
        "minimalSubscriptionPlan": variant.plan.value,
        "iconPath": ICON_PATH,
        "scopes": list(variant.scopes),
        "components": [
            {
                "type": "sidebar",
                "accessLevel": "EVERYONE",
                "path": sidebar_path(),
                "label": variant.name,
                "iconPath": ICON_PATH,
            }
        ],
        "settings": variant.settings_layout.manifest_settings(),
        "lifecycle": [{"type": t, "path": lifecycle_path(t)} for t in LIFECYCLE_TYPES],
        # Add-on events only: the API-only ones come through workspace webhooks (same paths).
        "webhooks": [{"event": event, "path": webhook_path(event)} for event in variant.manifest_events],
    }


def manifest_file(variant: Variant) -> Path:
    return Path(settings.BASE_DIR) / "manifests" / f"{variant.slug}.json"


# The committed files use a fixed placeholder base URL and the default keys so they do not drift
# with each deployment's PUBLIC_BASE_URL; the served manifest uses the live values.
COMMITTED_BASE_URL = "https://addons.example.com"


def render_committed_manifest(variant: Variant) -> str:
    manifest = build_manifest(variant, base_url=f"{COMMITTED_BASE_URL}/{variant.slug}")
    return json.dumps(manifest, indent=2) + "\n"
