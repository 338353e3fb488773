"""Executing a run: drivers claim steps, fetch their pages and commit each page with its progress.

A driver (one ``bootstrap.drive`` task) loops: claim the next step (pending, or running with an
expired lease), fetch it page by page (``ClockifyClient`` with the run's rate cap, so every
driver of every worker shares the workspace bucket), and commit each page's entities together
with the step's new ``next_page``. A crash therefore loses at most the page in flight. Several
drivers work on one run at once (``BOOTSTRAP_PARALLELISM``).
"""

from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from addons.clockify.client import ClockifyClient, ClockifyError, ClockifyHTTPError
from addons.clockify.pagination import extract_items
from addons.metrics import BOOTSTRAP_ITEMS
from bootstrap.endpoints import ENDPOINTS, SETTINGS_STEP, Endpoint, children_of, plan_options, top_level_endpoints
from bootstrap.models import ACTIVE_RUN_STATUSES, BootstrapRun, BootstrapStep, RunStatus, StepStatus
from bootstrap.services.cache import cached_entities_upsert
from bootstrap.services.runs import (
    bootstrap_fail, bootstrap_finish_if_complete, enqueue_drivers, lease_seconds, parallelism,
)
from bootstrap.services.settings_sync import installation_sync_settings
from installations.models import Installation
from installations.selectors import effective_settings

logger = logging.getLogger("bootstrap.runner")

def _worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


# Outcomes of one step.
CONTINUE, STOP, ABORT = "continue", "stop", "abort"


@dataclass
class DriveResult:
    steps: int = 0
    outcome: str = "idle"  # idle | finished | stopped | aborted | budget


def _page_size() -> int:
    return max(1, int(getattr(settings, "BOOTSTRAP_PAGE_SIZE", 50)))


_CLAIM_SQL = """
UPDATE bootstrap_bootstrapstep
   SET status = 'running', lease_until = %(lease)s, attempts = attempts + 1,
       started_at = COALESCE(started_at, %(now)s), claimed_by = %(worker)s, updated_at = %(now)s
 WHERE id = (
       SELECT s.id FROM bootstrap_bootstrapstep s
        WHERE s.run_id = %(run)s
          AND (s.status = 'pending' OR (s.status = 'running' AND s.lease_until < %(now)s))
          AND EXISTS (SELECT 1 FROM bootstrap_bootstraprun r
                       WHERE r.id = %(run)s AND r.status IN ('pending', 'running'))
        ORDER BY s.priority, s.id
        FOR UPDATE SKIP LOCKED
        LIMIT 1)
RETURNING *
"""


def _claim(run: BootstrapRun) -> BootstrapStep | None:
    """Take the next step of an active run: pending first by priority, or one whose worker's lease
    ran out. PostgreSQL: one statement (the hot path: one claim per step). Elsewhere: select, then
    a conditional update, so two drivers never both take a step."""
    now = timezone.now()
    claim = dict(status=StepStatus.RUNNING, lease_until=now + timedelta(seconds=lease_seconds()),
                 claimed_by=_worker_id())
    if connection.vendor == "postgresql":
        rows = list(BootstrapStep.objects.raw(_CLAIM_SQL, {"lease": claim["lease_until"], "now": now,
                                                           "worker": claim["claimed_by"], "run": run.pk}))
        return rows[0] if rows else None
    claimable = Q(status=StepStatus.PENDING) | Q(status=StepStatus.RUNNING, lease_until__lt=now)
    for _ in range(8):
        if not _run_active(run):
            return None
        candidate = run.steps.filter(claimable).order_by("priority", "pk").first()
        if candidate is None:
            return None
        taken = BootstrapStep.objects.filter(
            pk=candidate.pk, status=candidate.status, lease_until=candidate.lease_until,
        ).update(attempts=F("attempts") + 1, updated_at=now, started_at=candidate.started_at or now, **claim)
        if taken:
            for name, value in claim.items():
                setattr(candidate, name, value)
            candidate.attempts += 1
            return candidate
    return None


def _live_steps(run: BootstrapRun) -> int:
    return run.steps.filter(status=StepStatus.RUNNING, lease_until__gte=timezone.now()).count()


def _run_active(run: BootstrapRun) -> bool:
    return BootstrapRun.objects.filter(pk=run.pk, status__in=ACTIVE_RUN_STATUSES).exists()


def _release(step: BootstrapStep) -> None:
    BootstrapStep.objects.filter(pk=step.pk, status=StepStatus.RUNNING).update(
        status=StepStatus.PENDING, lease_until=None, updated_at=timezone.now())


def _close(step: BootstrapStep, status: str, error: str = "", **fields: Any) -> None:
    BootstrapStep.objects.filter(pk=step.pk).update(
        status=status, last_error=error[:2000], lease_until=None, finished_at=timezone.now(),
        updated_at=timezone.now(), **fields)


def _spawn_children(run: BootstrapRun, installation: Installation, endpoint: Endpoint, items: list[Any]) -> int:
    variant = installation.variant_spec
    children = [c for c in children_of(endpoint.name) if c.enabled(variant=variant, options=run.options)]
    rows = [
        BootstrapStep(run=run, installation=installation, key=f"{child.name}:{item['id']}", endpoint=child.name,
                      parent_id=str(item["id"])[:64], priority=child.priority)
        for child in children for item in items if isinstance(item, dict) and item.get("id")
    ]
    if not rows:
        return 0
    before = run.steps.count()
    BootstrapStep.objects.bulk_create(rows, ignore_conflicts=True)
    return run.steps.count() - before


def _commit_page(run: BootstrapRun, installation: Installation, step: BootstrapStep, endpoint: Endpoint,
                 number: int, items: list[Any], is_last: bool, truncated: bool = False) -> None:
    now = timezone.now()
    with transaction.atomic():
        stored = cached_entities_upsert(installation=installation, entity_type=endpoint.entity_type, items=items,
                                        fetched_at=now)
        spawned = _spawn_children(run, installation, endpoint, items)
        fields: dict[str, Any] = dict(
            pages=F("pages") + 1, items=F("items") + stored, next_page=number + 1,
            lease_until=now + timedelta(seconds=lease_seconds()), updated_at=now,
        )
        if is_last or truncated:
            fields.update(status=StepStatus.DONE, lease_until=None, finished_at=now, truncated=truncated,
                          last_error="truncated at the page cap" if truncated else "")
        BootstrapStep.objects.filter(pk=step.pk).update(**fields)
        if spawned:
            # New work appeared: bring the run up to its parallelism.
            enqueue_drivers(run=run, count=min(spawned, parallelism() - _live_steps(run)))
    BOOTSTRAP_ITEMS.labels(entity_type=endpoint.entity_type).inc(stored)


def _http_outcome(run: BootstrapRun, step: BootstrapStep, status: int, path_label: str) -> str:
    if status in (403, 404):  # not on this workspace's plan, or the parent vanished: nothing to fetch
        _close(step, StepStatus.SKIPPED, f"HTTP {status} from Clockify: not available")
        return CONTINUE
    _close(step, StepStatus.FAILED, f"HTTP {status} from Clockify for {path_label}")
    if status == 401:  # the installation token is refused: every other step would fail too
        bootstrap_fail(run=run, error="Clockify refused the installation token (HTTP 401)")
        return ABORT
    return CONTINUE


def _client(run: BootstrapRun, installation: Installation) -> ClockifyClient:
    max_rps = run.options.get("max_rps") or effective_settings(installation=installation)["bootstrap_max_rps"]
    return ClockifyClient.for_installation(installation, max_rps=max_rps)


def _run_settings_step(run: BootstrapRun, installation: Installation, step: BootstrapStep) -> str:
    path = f"/addon/workspaces/{installation.workspace_id}/settings"
    outcome = CONTINUE
    try:
        response = _client(run, installation).get(path)
    except ClockifyError as exc:
        _close(step, StepStatus.FAILED, str(exc))
        bootstrap_fail(run=run, error=f"Clockify unreachable: {exc}")
        return ABORT
    if response.ok:
        try:
            changed = installation_sync_settings(installation=installation, body=response.json())
            _close(step, StepStatus.DONE, pages=1, items=len(changed), next_page=2)
        except ValueError:
            _close(step, StepStatus.FAILED, "settings response is not JSON")
    else:
        outcome = _http_outcome(run, step, response.status, "the add-on settings")
    if outcome == ABORT:
        return ABORT
    _plan(run)
    return outcome


def _plan(run: BootstrapRun) -> None:
    """After the settings step: fix the run's options and create a step per enabled endpoint."""
    with transaction.atomic():
        run = BootstrapRun.objects.select_for_update().select_related("installation").get(pk=run.pk)
        if run.planned:
            return
        installation = Installation.objects.get(pk=run.installation_id)
        options = plan_options(effective=effective_settings(installation=installation))
        options["page_size"] = _page_size()
        run.options = options
        run.planned = True
        run.save(update_fields=["options", "planned", "updated_at"])
        endpoints = top_level_endpoints(variant=installation.variant_spec, options=options)
        BootstrapStep.objects.bulk_create(
            [BootstrapStep(run=run, installation=installation, key=e.name, endpoint=e.name, priority=e.priority)
             for e in endpoints],
            ignore_conflicts=True,
        )
        enqueue_drivers(run=run, count=parallelism() - 1)


def _run_endpoint_step(run: BootstrapRun, installation: Installation, step: BootstrapStep) -> str:
    endpoint = ENDPOINTS.get(step.endpoint)
    if endpoint is None:  # a registry entry removed since the step was planned
        _close(step, StepStatus.SKIPPED, "endpoint no longer in the registry")
        return CONTINUE
    client = _client(run, installation)
    path = endpoint.build_path(workspace_id=installation.workspace_id, parent_id=step.parent_id)
    try:
        if endpoint.single or not endpoint.paginated:  # one object, or a list Clockify sends whole
            response = client.get(path, base=endpoint.base, params=endpoint.params(run.options) or None)
            if not response.ok:
                return _http_outcome(run, step, response.status, endpoint.name)
            body = response.json()
            items = [body] if endpoint.single and isinstance(body, dict) else extract_items(body, endpoint.items_key)
            _commit_page(run, installation, step, endpoint, 1, items, is_last=True)
            return CONTINUE
        pager = client.paginate(
            path, params=endpoint.params(run.options), page_size=int(run.options.get("page_size") or _page_size()),
            max_pages=int(run.options.get("max_pages") or 200), start_page=step.next_page, base=endpoint.base,
            items_key=endpoint.items_key,
        )
        closed = False
        for page in pager:
            at_cap = page.number >= pager.max_pages and not page.is_last
            closed = page.is_last or at_cap
            _commit_page(run, installation, step, endpoint, page.number, page.items, page.is_last, truncated=at_cap)
            if not closed and not _run_active(run):
                _release(step)  # cancelled (installation deleted) or failed elsewhere: stop here
                return STOP
        if not closed:  # a resumed step already past the cap yields no page: close it too
            _close(step, StepStatus.DONE, "truncated at the page cap", truncated=True)
        if pager.truncated:
            logger.warning("bootstrap_truncated", extra={"workspace_id": installation.workspace_id,
                                                         "endpoint": endpoint.name, "pages": pager.max_pages})
        return CONTINUE
    except ClockifyHTTPError as exc:
        return _http_outcome(run, step, exc.status, endpoint.name)
    except ClockifyError as exc:
        _close(step, StepStatus.FAILED, str(exc))
        bootstrap_fail(run=run, error=f"Clockify unreachable: {exc}")
        return ABORT
    except ValueError:  # a body that is not JSON
        _close(step, StepStatus.FAILED, f"{endpoint.name}: response is not JSON")
        return CONTINUE


def bootstrap_drive(*, run_id: int, budget_seconds: float | None = None) -> DriveResult:
    """Work on a run until nothing is left to claim, it stops, or the time budget is spent (then a
    fresh driver is enqueued, so one long bootstrap never holds a worker past its time limit)."""
    result = DriveResult()
    run = BootstrapRun.objects.select_related("installation").filter(pk=run_id).first()
    if run is None or not run.is_active:
        return result
    installation = run.installation
    if not installation.is_active:  # inactive: resumes when re-activated (see receivers)
        return result
    if run.status == RunStatus.PENDING:
        now = timezone.now()
        BootstrapRun.objects.filter(pk=run.pk, status=RunStatus.PENDING).update(
            status=RunStatus.RUNNING, started_at=now, updated_at=now)
    if _live_steps(run) >= parallelism():  # enough drivers on this run already
        return result
    budget = budget_seconds if budget_seconds is not None else float(
        getattr(settings, "BOOTSTRAP_DRIVER_BUDGET_SECONDS", 300))
    deadline = time.monotonic() + budget
    while True:
        if time.monotonic() >= deadline:
            enqueue_drivers(run=run)
            result.outcome = "budget"
            return result
        if not run.planned:  # the plan (options, steps) is made by whichever driver ran the settings step
            run.refresh_from_db(fields=["status", "options", "planned"])
        step = _claim(run)  # None also when the run was cancelled or failed meanwhile
        if step is None:
            break
        result.steps += 1
        if step.endpoint == SETTINGS_STEP:
            outcome = _run_settings_step(run, installation, step)
        else:
            outcome = _run_endpoint_step(run, installation, step)
        if outcome == ABORT:
            result.outcome = "aborted"
            return result
        if outcome == STOP:
            result.outcome = "stopped"
            return result
    final = bootstrap_finish_if_complete(run=run)
    result.outcome = "finished" if final else "idle"
    return result
