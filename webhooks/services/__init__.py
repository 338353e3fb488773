"""Webhook writes: the only code that creates or changes events and custom sources."""

from webhooks.services.custom_sources import (  # noqa: F401
    CustomSourceError,
    SignatureError,
    custom_source_create,
    custom_source_delete,
    custom_source_revoke,
    custom_source_rotate_secret,
    custom_source_secret_revoke,
    verify_signature,
)
from webhooks.services.ingest import StoreOutcome, StoreResult, webhook_event_store  # noqa: F401
from webhooks.services.processing import (  # noqa: F401
    webhook_event_process,
    webhook_events_process,
    webhook_events_sweep,
)
from webhooks.services.replay import ReplayError, webhook_event_replay, webhook_events_replay  # noqa: F401
from webhooks.services.retention import webhook_events_purge  # noqa: F401
