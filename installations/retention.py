"""Retention: one mechanism for every kind of per-installation data that expires.

Each app registers a ``RetentionPolicy`` (model, timestamp field, the installation setting that
holds the number of days) from its ``AppConfig.ready()``; ``manage.py retention`` and the beat
task apply them all. Deleting in small batches, each its own short statement, keeps locks short;
a time budget bounds a run, and what is left waits for the next one.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from django.conf import settings
from django.db import models
from django.utils import timezone

from installations.models import Installation, InstallationStatus
from installations.selectors import effective_settings

logger = logging.getLogger("installations.retention")


@dataclass(frozen=True)
class RetentionPolicy:
    kind: str  # the name used by `manage.py retention --kind`
    model: type[models.Model]
    time_field: str
    setting_id: str  # effective setting holding the retention in days
    keep: models.Q | None = None  # rows never purged (e.g. runs still in flight)
    before_delete: Callable[[list[int]], None] | None = None  # e.g. detach self-references


@dataclass
class RetentionResult:
    kind: str
    count: int
    complete: bool  # False when the time budget ran out first


_POLICIES: dict[str, RetentionPolicy] = {}


def register_retention_policy(policy: RetentionPolicy) -> None:
    _POLICIES[policy.kind] = policy


def retention_kinds() -> list[str]:
    return [*_POLICIES, "deleted_installations"]


def _expired(policy: RetentionPolicy, installation: Installation, now: datetime) -> models.QuerySet:
    days = int(effective_settings(installation=installation)[policy.setting_id])
    queryset = policy.model._default_manager.filter(
        installation=installation, **{f"{policy.time_field}__lt": now - timedelta(days=days)}
    )
    return queryset.exclude(policy.keep) if policy.keep is not None else queryset


def retention_apply(
    policy: RetentionPolicy, *, now: datetime | None = None, batch_size: int = 1000,
    deadline: float | None = None, dry_run: bool = False,
) -> RetentionResult:
    """Delete (or, with ``dry_run``, count) the rows ``policy`` says have expired."""
    now = now or timezone.now()
    installation_ids = policy.model._default_manager.values_list("installation_id", flat=True).distinct()
    total, complete = 0, True
    for installation in Installation.objects.filter(pk__in=list(installation_ids)).order_by("pk"):
        expired = _expired(policy, installation, now)
        if dry_run:
            total += expired.count()
            continue
        while True:
            if deadline is not None and time.monotonic() >= deadline:
                complete = False
                break
            ids = list(expired.order_by(policy.time_field).values_list("pk", flat=True)[:batch_size])
            if not ids:
                break
            if policy.before_delete is not None:
                policy.before_delete(ids)
            policy.model._default_manager.filter(pk__in=ids).delete()
            total += len(ids)
        if not complete:
            break
    logger.info("retention_applied", extra={"kind": policy.kind, "count": total, "dry_run": dry_run,
                                            "complete": complete})
    return RetentionResult(policy.kind, total, complete)


def deleted_installations_purge(
    *, now: datetime | None = None, deadline: float | None = None, dry_run: bool = False
) -> RetentionResult:
    """Remove installations deleted longer ago than the grace period, with all their data."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.DELETED_INSTALLATION_GRACE_DAYS)
    expired = Installation.objects.filter(status=InstallationStatus.DELETED, deleted_at__lt=cutoff)
    if dry_run:
        return RetentionResult("deleted_installations", expired.count(), True)
    count, complete = 0, True
    for pk in list(expired.values_list("pk", flat=True)):
        if deadline is not None and time.monotonic() >= deadline:
            complete = False
            break
        Installation.objects.filter(pk=pk).delete()  # cascades to events, flows, runs, cache, calls
        count += 1
    logger.info("retention_applied", extra={"kind": "deleted_installations", "count": count, "dry_run": False})
    return RetentionResult("deleted_installations", count, complete)


def retention_run(
    *, kinds: list[str] | None = None, dry_run: bool = False, batch_size: int = 1000,
    time_budget_seconds: float | None = None, now: datetime | None = None,
) -> list[RetentionResult]:
    """Apply the chosen retention kinds (all by default) within one shared time budget."""
    deadline = time.monotonic() + time_budget_seconds if time_budget_seconds else None
    results = []
    for kind in kinds or retention_kinds():
        if kind == "deleted_installations":
            results.append(deleted_installations_purge(now=now, deadline=deadline, dry_run=dry_run))
        else:
            results.append(retention_apply(_POLICIES[kind], now=now, batch_size=batch_size, deadline=deadline,
                                           dry_run=dry_run))
    return results
