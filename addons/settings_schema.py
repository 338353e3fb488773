"""Structured settings: the specs each variant declares in its manifest, and how values are coerced.

A ``SettingSpec`` is both the manifest entry (Clockify's tabs/groups/settings format) and the
parser for the value Clockify sends back in SETTINGS_UPDATED.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable


class SettingValueError(ValueError):
    pass


class SettingOutOfRange(SettingValueError):
    """A number outside the setting's bounds; ``clamped`` is the nearest allowed value."""

    def __init__(self, message: str, clamped: int) -> None:
        super().__init__(message)
        self.clamped = clamped


@dataclass(frozen=True)
class SettingSpec:
    id: str
    name: str
    type: str  # TXT | NUMBER | CHECKBOX | DROPDOWN_SINGLE | DROPDOWN_MULTIPLE | LINK
    default: Any
    description: str = ""
    minimum: int | None = None
    maximum: int | None = None
    allowed_values: tuple[str, ...] = ()
    access_level: str = "ADMINS"

    def coerce(self, raw: Any) -> Any:
        """Turn a value from Clockify (or the environment) into this setting's Python type."""
        if self.type == "CHECKBOX":
            if isinstance(raw, bool):
                return raw
            if isinstance(raw, str) and raw.strip().lower() in ("true", "1", "yes", "on"):
                return True
            if isinstance(raw, str) and raw.strip().lower() in ("false", "0", "no", "off", ""):
                return False
            raise SettingValueError(f"{self.id}: expected a boolean")
        if self.type == "NUMBER":
            if isinstance(raw, bool):
                raise SettingValueError(f"{self.id}: expected a number")
            try:
                value = int(float(raw))
            except (TypeError, ValueError):
                raise SettingValueError(f"{self.id}: expected a number") from None
            if self.minimum is not None and value < self.minimum:
                raise SettingOutOfRange(f"{self.id}: must be at least {self.minimum}", self.minimum)
            if self.maximum is not None and value > self.maximum:
                raise SettingOutOfRange(f"{self.id}: must be at most {self.maximum}", self.maximum)
            return value
        if self.type == "DROPDOWN_MULTIPLE":
            values = raw if isinstance(raw, list) else [v for v in str(raw).split(",") if v]
            bad = [v for v in values if v not in self.allowed_values]
            if bad:
                raise SettingValueError(f"{self.id}: not allowed: {bad}")
            return list(values)
        if self.type == "DROPDOWN_SINGLE":
            if raw not in self.allowed_values:
                raise SettingValueError(f"{self.id}: must be one of {list(self.allowed_values)}")
            return raw
        if not isinstance(raw, (str, int, float)):
            raise SettingValueError(f"{self.id}: expected text")
        return str(raw)

    @property
    def required(self) -> bool:
        """Only a number needs a value: a blank number means nothing, a required checkbox would have
        to be ticked, and a blank text can be meant (an empty allow-list allows nothing)."""
        return self.type == "NUMBER"

    def manifest_entry(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "type": self.type,
            "value": self.default,
            "accessLevel": self.access_level,
        }
        if self.required:
            entry["required"] = True
        if self.allowed_values:
            entry["allowedValues"] = list(self.allowed_values)
        return entry


@dataclass
class CoercedSettings:
    """Settings from Clockify, each coerced on its own: one bad value never drops the others."""

    values: dict[str, Any] = field(default_factory=dict)
    clamped: list[str] = field(default_factory=list)  # numbers out of bounds, stored at the nearest bound
    skipped: list[str] = field(default_factory=list)  # values of the wrong type: the old value stays
    unknown: list[str] = field(default_factory=list)  # ids this variant does not declare


def coerce_settings(specs: dict[str, SettingSpec], items: Iterable[Any]) -> CoercedSettings:
    """Coerce ``[{id, value}, ...]`` against ``specs``; the caller logs what was clamped or skipped."""
    result = CoercedSettings()
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            result.unknown.append(str(item.get("id"))[:100] if isinstance(item, dict) else "?")
            continue
        spec = specs.get(item["id"])
        if spec is None:
            result.unknown.append(item["id"][:100])
            continue
        try:
            result.values[spec.id] = spec.coerce(item.get("value"))
        except SettingOutOfRange as exc:
            result.values[spec.id] = exc.clamped
            result.clamped.append(spec.id)
        except SettingValueError:
            result.skipped.append(spec.id)
    return result


@dataclass(frozen=True)
class SettingsGroup:
    id: str
    title: str
    description: str
    settings: tuple[SettingSpec, ...]


@dataclass(frozen=True)
class SettingsLayout:
    """One tab of groups; ``specs`` is the flat view used for lookups."""

    tab_id: str
    tab_name: str
    groups: tuple[SettingsGroup, ...]
    specs: dict[str, SettingSpec] = field(init=False)

    def __post_init__(self) -> None:
        flat = {spec.id: spec for group in self.groups for spec in group.settings}
        object.__setattr__(self, "specs", flat)

    def manifest_settings(self) -> dict[str, Any]:
        return {
            "tabs": [
                {
                    "id": self.tab_id,
                    "name": self.tab_name,
                    "groups": [
                        {
                            "id": group.id,
                            "title": group.title,
                            "description": group.description,
                            "settings": [spec.manifest_entry() for spec in group.settings],
                        }
                        for group in self.groups
                    ],
                }
            ]
        }


# --- The setting specs (shared by both variants where they overlap) ------------------------------

ENABLE_BOOTSTRAP = SettingSpec(
    "enable_bootstrap", "Bootstrap on install", "CHECKBOX", True,
    "Fetch the workspace's entities through the Clockify API right after installation.",
)
BOOTSTRAP_MAX_RPS = SettingSpec(
    "bootstrap_max_rps", "Bootstrap requests per second", "NUMBER", 25,
    "Cap on Clockify API calls per second during bootstrap (Clockify allows 50).",
    minimum=1, maximum=50,
)
BOOTSTRAP_MAX_PAGES = SettingSpec(
    "bootstrap_max_pages", "Bootstrap page cap", "NUMBER", 200,
    "Maximum pages fetched per endpoint; a truncation is recorded on the dashboard.",
    minimum=1, maximum=10000,
)
INCLUDE_HEAVY_ENDPOINTS = SettingSpec(
    "include_heavy_endpoints", "Include heavy endpoints", "CHECKBOX", False,
    "Also fetch report-style and other expensive endpoints during bootstrap.",
)
INCLUDE_TIME_ENTRIES = SettingSpec(
    "include_time_entries", "Include time entries", "CHECKBOX", False,
    "Fetch recent time entries during bootstrap.",
)
TIME_ENTRY_DAYS_BACK = SettingSpec(
    "time_entry_days_back", "Time entry days back", "NUMBER", 30,
    "How many days of time entries bootstrap fetches.", minimum=1, maximum=365,
)
ENABLE_CUSTOM_WEBHOOKS = SettingSpec(
    "enable_custom_webhooks", "Custom webhooks", "CHECKBOX", True,
    "Accept webhooks from external systems at per-source URLs.",
)
WEBHOOK_LOG_RETENTION_DAYS = SettingSpec(
    "webhook_log_retention_days", "Webhook log retention (days)", "NUMBER", 90,
    "Webhook events older than this are deleted.", minimum=1, maximum=3650,
)
ENABLE_WORKSPACE_WEBHOOKS = SettingSpec(
    "enable_workspace_webhooks", "API-only events", "CHECKBOX", False,
    "Also receive the 9 events add-ons cannot subscribe to (time entry split and restored, rates, "
    "invitations, expense restored, time-off updated and started) through workspace webhooks; they "
    "count against the workspace's webhook allowance.",
)
ENABLE_FLOWS = SettingSpec(
    "enable_flows", "Flows", "CHECKBOX", True, "Run no-code flows on incoming events.",
)
ENABLE_GENERIC_HTTP_ACTIONS = SettingSpec(
    "enable_generic_http_actions", "Generic HTTP actions", "CHECKBOX", False,
    "Let flows call external HTTP endpoints (public addresses only).",
)
HTTP_ACTION_ALLOWED_DOMAINS = SettingSpec(
    "http_action_allowed_domains", "HTTP action allowed domains", "TXT", "*",
    "Comma-separated domains HTTP actions may call; * allows any public host.",
)
FLOW_EXECUTION_RETENTION_DAYS = SettingSpec(
    "flow_execution_retention_days", "Flow run retention (days)", "NUMBER", 30,
    "Flow runs older than this are deleted.", minimum=1, maximum=3650,
)
CACHE_TTL_DAYS = SettingSpec(
    "cache_ttl_days", "Entity cache TTL (days)", "NUMBER", 7,
    "Cached entities not refreshed for this long are purged.", minimum=1, maximum=3650,
)
EXPLORER_CALL_RETENTION_DAYS = SettingSpec(
    "explorer_call_retention_days", "Explorer call log retention (days)", "NUMBER", 30,
    "Explorer call log entries older than this are deleted.", minimum=1, maximum=3650,
)

API_STUDIO_SETTINGS = SettingsLayout(
    "general", "API Studio",
    (
        SettingsGroup(
            "general", "General", "Bootstrap, flows and retention.",
            (ENABLE_BOOTSTRAP, BOOTSTRAP_MAX_RPS, ENABLE_FLOWS, WEBHOOK_LOG_RETENTION_DAYS,
             FLOW_EXECUTION_RETENTION_DAYS),
        ),
    ),
)

UNIVERSAL_WEBHOOK_SETTINGS = SettingsLayout(
    "general", "Universal Webhook",
    (
        SettingsGroup(
            "bootstrap", "Bootstrap", "What is fetched from Clockify after installation.",
            (ENABLE_BOOTSTRAP, BOOTSTRAP_MAX_RPS, BOOTSTRAP_MAX_PAGES, INCLUDE_HEAVY_ENDPOINTS,
             INCLUDE_TIME_ENTRIES, TIME_ENTRY_DAYS_BACK),
        ),
        SettingsGroup(
            "webhooks", "Webhooks", "Incoming Clockify and custom webhooks.",
            (ENABLE_CUSTOM_WEBHOOKS, ENABLE_WORKSPACE_WEBHOOKS, WEBHOOK_LOG_RETENTION_DAYS),
        ),
        SettingsGroup(
            "flows", "Flows", "No-code automations.",
            (ENABLE_FLOWS, ENABLE_GENERIC_HTTP_ACTIONS, HTTP_ACTION_ALLOWED_DOMAINS,
             FLOW_EXECUTION_RETENTION_DAYS),
        ),
        SettingsGroup(
            "data", "Data", "Cached entities and logs.",
            (CACHE_TTL_DAYS, EXPLORER_CALL_RETENTION_DAYS),
        ),
    ),
)
