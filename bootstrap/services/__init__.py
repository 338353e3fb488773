"""Bootstrap writes (the only code that changes runs, steps and cached entities)."""

from bootstrap.services.cache import cached_entities_purge, cached_entities_upsert, cached_entity_apply_event
from bootstrap.services.runner import DriveResult, bootstrap_drive
from bootstrap.services.runs import bootstrap_fail, bootstrap_start, bootstrap_stop, bootstrap_sweep
from bootstrap.services.settings_sync import installation_sync_settings, settings_values_from_clockify

__all__ = [
    "DriveResult", "bootstrap_drive", "bootstrap_fail", "bootstrap_start", "bootstrap_stop", "bootstrap_sweep",
    "cached_entities_purge", "cached_entities_upsert", "cached_entity_apply_event", "installation_sync_settings",
    "settings_values_from_clockify",
]
