"""The one extension point of webhook processing.

Ingestion stores an event; the ``webhooks`` worker then calls every registered processor with
it, in registration order. Other apps plug in from their ``AppConfig.ready()``:

    from webhooks.extensions import register_processor
    register_processor("entity_cache", apply_event_to_cache)

A processor receives ``event`` (a ``webhooks.models.WebhookEvent``, with ``installation``
loaded) and must be idempotent: an event can be processed again (replay, redelivery).
Raising marks the event failed with the error; other processors still run.
"""

from __future__ import annotations

from typing import Any, Callable

Processor = Callable[[Any], None]

_PROCESSORS: dict[str, Processor] = {}


def register_processor(name: str, processor: Processor) -> None:
    """Register (or replace, by name) a processor."""
    _PROCESSORS[name] = processor


def processors() -> list[tuple[str, Processor]]:
    return list(_PROCESSORS.items())
