"""Flow reads, always scoped by installation."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable

from django.db.models import QuerySet

from addons.variants import Feature
from config.db import ModelColumns, fetchall_prepared
from flows.models import Flow, FlowRun, FlowSecret
from installations import crypto
from installations.models import Installation


def flow_list(*, installation: Installation) -> QuerySet[Flow]:
    return Flow.objects.filter(installation=installation).prefetch_related("secrets").order_by("-created_at", "-id")


def flow_get(*, installation: Installation, public_id: str) -> Flow | None:
    return Flow.objects.filter(installation=installation, public_id=public_id).prefetch_related("secrets").first()


def flow_secret_lookup(*, flow_id: int) -> Callable[[str], str | None]:
    """``lookup(name) -> value | None`` over the flow's secrets: decrypted on first use, once per run."""
    values: dict[str, str] | None = None

    def lookup(name: str) -> str | None:
        nonlocal values
        if values is None:
            values = {s.name: crypto.decrypt(s.value_encrypted) for s in FlowSecret.objects.filter(flow_id=flow_id)}
        return values.get(name)

    return lookup


def flows_triggered_by(*, installation: Installation, event_type: str, custom_source: str | None) -> list[Flow]:
    """Enabled flows of the installation whose trigger is this event type or custom source.

    Read for every event, so a prepared statement (config.db) rather than the ORM's compiled query.
    """
    sql, columns = _enabled_flows_statement()
    flows = [columns.build(row) for row in fetchall_prepared(sql, [installation.pk])]
    matched = []
    custom_allowed = installation.variant_spec.allows(Feature.CUSTOM_SOURCE_TRIGGERS)
    for flow in flows:  # a handful per installation: filtering JSON here works on SQLite too
        trigger = flow.trigger or {}
        if custom_source is not None:
            if custom_allowed and trigger.get("custom_source") == custom_source:
                matched.append(flow)
        elif event_type in (trigger.get("events") or ()):
            matched.append(flow)
    return matched


@lru_cache(maxsize=1)
def _enabled_flows_statement() -> tuple[str, ModelColumns]:
    columns = ModelColumns(Flow, "f", exclude=("signing_secret_encrypted",))
    return (f"SELECT {columns.sql} FROM {Flow._meta.db_table} f "
            "WHERE f.installation_id = %s AND f.enabled ORDER BY f.id"), columns


def run_list(*, installation: Installation, flow: Flow | None = None, status: str | None = None) -> QuerySet[FlowRun]:
    runs = FlowRun.objects.filter(installation=installation).select_related("flow")
    if flow is not None:
        runs = runs.filter(flow=flow)
    if status:
        runs = runs.filter(status=status)
    return runs.order_by("-created_at", "-id")


def run_get(*, installation: Installation, public_id: str) -> FlowRun | None:
    return (
        FlowRun.objects.filter(installation=installation, public_id=public_id)
        .select_related("flow", "replay_of")
        .prefetch_related("steps")
        .first()
    )


def cache_lookup_for(installation: Installation) -> Callable[[str, str], dict[str, Any] | None]:
    """``{{cache.<type>.<id>}}`` reads the entity cache of this installation only."""

    def lookup(entity_type: str, entity_id: str) -> dict[str, Any] | None:
        try:
            from bootstrap.selectors import entity_get
        except ImportError:  # the entity cache is not installed in this build
            return None
        return entity_get(installation=installation, entity_type=entity_type, entity_id=entity_id)

    return lookup
