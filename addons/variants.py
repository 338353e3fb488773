"""The variant registry: the ONE place that says what each add-on variant may do.

Everything else asks a ``Variant`` (``variant.allows(Feature.X)``, ``variant.subscribes(event)``,
``variant.setting_specs``) instead of comparing slugs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from django.conf import settings

from addons.catalog import EVENTS
from addons.scopes import EVERYTHING, ApiAccess
from addons.settings_schema import (
    API_STUDIO_SETTINGS,
    UNIVERSAL_WEBHOOK_SETTINGS,
    SettingsLayout,
    SettingSpec,
)


class Feature(str, Enum):
    BOOTSTRAP = "bootstrap"
    FLOWS = "flows"
    FLOW_CLOCKIFY_ACTIONS = "flow_clockify_actions"
    FLOW_HTTP_ACTIONS = "flow_http_actions"  # also needs the enable_generic_http_actions setting
    CUSTOM_WEBHOOKS = "custom_webhooks"  # also needs the enable_custom_webhooks setting
    CUSTOM_SOURCE_TRIGGERS = "custom_source_triggers"
    EXPLORER_READ = "explorer_read"
    EXPLORER_WRITE = "explorer_write"  # write operations, OWNER/ADMIN with confirmation
    # API-only events through workspace webhooks; also needs the enable_workspace_webhooks setting
    WORKSPACE_WEBHOOKS = "workspace_webhooks"


class Plan(str, Enum):
    STANDARD = "STANDARD"
    ENTERPRISE = "ENTERPRISE"


@dataclass(frozen=True)
class Variant:
    slug: str
    name: str
    description: str
    plan: Plan
    key_setting: str  # name of the Django setting that holds the manifest key
    events: tuple[str, ...]  # every event it receives: add-on webhooks and, with the feature, workspace webhooks
    # What its explorer, flow actions and bootstrap may call; the manifest's scopes follow from it.
    api_access: ApiAccess
    features: frozenset[Feature]
    settings_layout: SettingsLayout
    event_set: frozenset[str] = field(init=False, repr=False)
    # The events its manifest subscribes to (all in manifest schema 1.2's enum)...
    manifest_events: tuple[str, ...] = field(init=False, repr=False)
    # ...and those no manifest can list: registered as workspace webhooks when the setting is on.
    workspace_webhook_events: tuple[str, ...] = field(init=False, repr=False)

    @property
    def key(self) -> str:
        """The manifest key; Clockify puts it in every token's ``sub``."""
        return getattr(settings, self.key_setting)

    @property
    def base_url(self) -> str:
        return f"{settings.PUBLIC_BASE_URL}/{self.slug}"

    def allows(self, feature: Feature) -> bool:
        return feature in self.features

    def subscribes(self, event: str) -> bool:
        return event in self.event_set

    def __post_init__(self) -> None:
        object.__setattr__(self, "event_set", frozenset(self.events))
        object.__setattr__(self, "manifest_events", tuple(e for e in self.events if EVENTS[e].addon_webhook))
        object.__setattr__(self, "workspace_webhook_events",
                           tuple(e for e in self.events if not EVENTS[e].addon_webhook))
        if self.workspace_webhook_events and Feature.WORKSPACE_WEBHOOKS not in self.features:
            raise ValueError(f"{self.slug}: API-only events need the {Feature.WORKSPACE_WEBHOOKS.value} feature")

    @property
    def scopes(self) -> tuple[str, ...]:
        return self.api_access.scopes

    @property
    def setting_specs(self) -> dict[str, SettingSpec]:
        return self.settings_layout.specs


_API_STUDIO_EVENTS = (
    "NEW_TIME_ENTRY", "TIME_ENTRY_UPDATED", "TIME_ENTRY_DELETED",
    "NEW_PROJECT", "PROJECT_UPDATED", "PROJECT_DELETED",
    "NEW_CLIENT", "CLIENT_UPDATED", "CLIENT_DELETED",
    "NEW_TAG", "TAG_UPDATED", "TAG_DELETED",
)
# API Studio works on what its 12 events are about (time entries, projects and their tasks,
# clients, tags): its flows may change those; its read-only explorer and bootstrap also read the
# context they refer to (users, groups, the workspace, custom fields).
_API_STUDIO_ACCESS = ApiAccess(
    read=frozenset({"TIME_ENTRY", "PROJECT", "TASK", "CLIENT", "TAG", "USER", "GROUP", "WORKSPACE", "CUSTOM_FIELDS"}),
    write=frozenset({"TIME_ENTRY", "PROJECT", "TASK", "CLIENT", "TAG"}),
)

API_STUDIO = Variant(
    slug="api-studio",
    name="API Studio",
    description="No-code Clockify API console: webhooks, a read-only API explorer and flows that call "
    "the Clockify API.",
    plan=Plan.STANDARD,
    key_setting="ADDON_KEY_API_STUDIO",
    events=_API_STUDIO_EVENTS,
    api_access=_API_STUDIO_ACCESS,
    features=frozenset({Feature.BOOTSTRAP, Feature.FLOWS, Feature.FLOW_CLOCKIFY_ACTIONS, Feature.EXPLORER_READ}),
    settings_layout=API_STUDIO_SETTINGS,
)

UNIVERSAL_WEBHOOK = Variant(
    slug="universal-webhook",
    name="Universal Webhook",
    description="Every Clockify event, custom webhooks from outside systems, every API operation and "
    "generic HTTP actions in no-code flows.",
    plan=Plan.ENTERPRISE,
    key_setting="ADDON_KEY_UNIVERSAL_WEBHOOK",
    events=tuple(EVENTS),
    api_access=EVERYTHING,  # "any API call": every operation, write ones for admins
    features=frozenset(Feature),
    settings_layout=UNIVERSAL_WEBHOOK_SETTINGS,
)

VARIANTS: dict[str, Variant] = {v.slug: v for v in (API_STUDIO, UNIVERSAL_WEBHOOK)}

# Every setting id any variant knows; a variant without a setting gets its default.
ALL_SETTING_SPECS: dict[str, SettingSpec] = {
    spec_id: spec for variant in VARIANTS.values() for spec_id, spec in variant.setting_specs.items()
}


def get_variant(slug: str) -> Variant | None:
    return VARIANTS.get(slug)


def variant_slugs_pattern() -> str:
    """A URL regex alternative matching every variant slug."""
    return "|".join(VARIANTS)
