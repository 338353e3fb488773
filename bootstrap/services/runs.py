"""Bootstrap runs: start (or resume), stop, finish, and the sweeper that revives stalled runs."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from addons.variants import Feature
from bootstrap.endpoints import SETTINGS_STEP
from bootstrap.models import ACTIVE_RUN_STATUSES, BootstrapRun, BootstrapStep, RunStatus, StepStatus
from config.enqueue import enqueue_on_commit
from installations.models import Installation, InstallationStatus

logger = logging.getLogger("bootstrap.runs")


def parallelism() -> int:
    return max(1, int(getattr(settings, "BOOTSTRAP_PARALLELISM", 4)))


def lease_seconds() -> int:
    return max(5, int(getattr(settings, "BOOTSTRAP_LEASE_SECONDS", 120)))


def enqueue_drivers(*, run: BootstrapRun, count: int = 1) -> None:
    from bootstrap.tasks import drive

    for _ in range(max(0, count)):
        enqueue_on_commit(drive, run.pk)


def bootstrap_start(*, installation: Installation, trigger: str = "manual", fresh: bool = False) -> BootstrapRun | None:
    """Start a run, or return the one already active (one at a time per installation).

    Unless ``fresh``, the latest run, if it failed, is resumed: its failed steps continue from the
    first page they had not stored. ``None`` when this installation cannot bootstrap (deleted,
    inactive, or a variant without the feature).
    """
    if not installation.variant_spec.allows(Feature.BOOTSTRAP) or installation.status != InstallationStatus.ACTIVE:
        return None
    with transaction.atomic():
        # Serialise starts for this installation (the unique constraint is the backstop).
        Installation.objects.select_for_update().filter(pk=installation.pk).first()
        active = BootstrapRun.objects.filter(installation=installation, status__in=ACTIVE_RUN_STATUSES).first()
        if active is not None:
            enqueue_drivers(run=active)  # a nudge is harmless: idle drivers exit at once
            return active
        latest = BootstrapRun.objects.filter(installation=installation).order_by("-created_at", "-pk").first()
        if not fresh and latest is not None and latest.status == RunStatus.FAILED:
            return _resume(latest)
        try:
            with transaction.atomic():
                run = BootstrapRun.objects.create(installation=installation, trigger=trigger)
                BootstrapStep.objects.create(run=run, installation=installation, key=SETTINGS_STEP,
                                             endpoint=SETTINGS_STEP, priority=0)
        except IntegrityError:
            return BootstrapRun.objects.filter(installation=installation, status__in=ACTIVE_RUN_STATUSES).first()
        enqueue_drivers(run=run)
    logger.info("bootstrap_started", extra={"workspace_id": installation.workspace_id, "run": run.pk,
                                            "trigger": trigger})
    return run


def _resume(run: BootstrapRun) -> BootstrapRun:
    run.steps.filter(status__in=[StepStatus.FAILED, StepStatus.RUNNING]).update(
        status=StepStatus.PENDING, lease_until=None, finished_at=None)
    run.status = RunStatus.PENDING
    run.error = ""
    run.finished_at = None
    run.save(update_fields=["status", "error", "finished_at", "updated_at"])
    enqueue_drivers(run=run, count=parallelism() if run.planned else 1)
    logger.info("bootstrap_resumed", extra={"workspace_id": run.installation.workspace_id, "run": run.pk})
    return run


def bootstrap_stop(*, installation: Installation, reason: str = "stopped") -> int:
    """Cancel the active run; its workers stop after the page they are on. Returns runs cancelled."""
    now = timezone.now()
    count = BootstrapRun.objects.filter(installation=installation, status__in=ACTIVE_RUN_STATUSES).update(
        status=RunStatus.CANCELLED, error=reason, finished_at=now, updated_at=now)
    if count:
        BootstrapStep.objects.filter(run__installation=installation, run__status=RunStatus.CANCELLED,
                                     status=StepStatus.RUNNING).update(status=StepStatus.PENDING, lease_until=None)
        logger.info("bootstrap_cancelled", extra={"workspace_id": installation.workspace_id, "reason": reason})
    return count


def bootstrap_fail(*, run: BootstrapRun, error: str) -> None:
    """Stop the run now (Clockify unreachable, token refused); unfinished steps stay for a resume."""
    now = timezone.now()
    BootstrapRun.objects.filter(pk=run.pk, status__in=ACTIVE_RUN_STATUSES).update(
        status=RunStatus.FAILED, error=error[:2000], finished_at=now, updated_at=now)
    logger.warning("bootstrap_failed", extra={"workspace_id": run.installation.workspace_id, "run": run.pk,
                                              "error": error[:200]})


def bootstrap_finish_if_complete(*, run: BootstrapRun) -> str | None:
    """Close the run when no step is left to fetch; returns the final status it set, if any."""
    now = timezone.now()
    steps = run.steps
    if steps.filter(Q(status=StepStatus.PENDING) | Q(status=StepStatus.RUNNING)).exists():
        return None
    failed = steps.filter(status=StepStatus.FAILED).count()
    final = RunStatus.FAILED if failed else RunStatus.DONE
    error = f"{failed} endpoint(s) failed" if failed else ""
    updated = BootstrapRun.objects.filter(pk=run.pk, status__in=ACTIVE_RUN_STATUSES).update(
        status=final, error=error, finished_at=now, updated_at=now)
    if not updated:
        return None
    logger.info("bootstrap_finished", extra={"workspace_id": run.installation.workspace_id, "run": run.pk,
                                             "status": final, "failed_steps": failed})
    return final


def bootstrap_sweep(*, stale_after_seconds: int = 60) -> int:
    """Re-enqueue drivers for active runs nobody is working on (broker down at start, worker lost,
    installation re-activated). Returns how many runs were nudged."""
    now = timezone.now()
    live = BootstrapStep.objects.filter(run=OuterRef("pk"), status=StepStatus.RUNNING, lease_until__gte=now)
    stalled = (
        BootstrapRun.objects.filter(status__in=ACTIVE_RUN_STATUSES, installation__status=InstallationStatus.ACTIVE,
                                    updated_at__lt=now - timedelta(seconds=stale_after_seconds))
        .exclude(Exists(live))
    )
    count = 0
    for run in stalled:
        enqueue_drivers(run=run, count=parallelism() if run.planned else 1)
        count += 1
    if count:
        logger.info("bootstrap_swept", extra={"runs": count})
    return count
