"""The run row's lease: claim, renew, release (see ``execution`` for why a lease, not a lock).

Claiming runs once per run, so on PostgreSQL it is one prepared statement (``config.db``) that
takes the lease and returns the run with its installation; other databases use the ORM.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from django.conf import settings
from django.db import connection
from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from config.db import ModelColumns, execute_prepared, fetchone_prepared, save_prepared, update_statement
from flows.actions import step_timeout
from flows.models import FlowRun, FlowRunStep, RunStatus
from installations.models import Installation


def lease_seconds() -> float:
    return float(getattr(settings, "FLOW_RUN_LEASE_SECONDS", step_timeout() * 2 + 10))


@dataclass(frozen=True)
class Claim:
    token: str
    run: FlowRun  # with its installation loaded
    first_start: bool  # never claimed before: no step rows yet (unless it is a replay)


def claim(run_id: int) -> Claim | None:
    """Take the run's lease, if it is queued or running and no live lease holds it."""
    token = secrets.token_hex(8)
    now = timezone.now()
    until = now + timedelta(seconds=lease_seconds())
    if connection.vendor == "postgresql":
        return _claim_prepared(run_id, token, now, until)
    lease = {"lease_token": token, "lease_until": until, "status": RunStatus.RUNNING}
    first_start = bool(FlowRun.objects.filter(pk=run_id, status=RunStatus.QUEUED, started_at__isnull=True,
                                              lease_until__isnull=True).update(started_at=now, **lease))
    if not first_start and not (
        FlowRun.objects.filter(pk=run_id, status__in=[RunStatus.QUEUED, RunStatus.RUNNING])
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(started_at=Coalesce("started_at", Value(now)), **lease)
    ):
        return None
    return Claim(token, FlowRun.objects.select_related("installation").get(pk=run_id), first_start)


@lru_cache(maxsize=1)
def _claim_statement() -> tuple[str, ModelColumns, ModelColumns]:
    runs = ModelColumns(FlowRun, "r", exclude=("conditions_result",))
    installations = ModelColumns(Installation, "i")
    # "old" is the row before this update (RETURNING sees it updated): a first start is a queued
    # run that was never started nor leased, as in the ORM path above. A lease with our own token
    # is ours: config.db repeats the statement once when the connection died before its reply.
    table = FlowRun._meta.db_table
    sql = (
        f"UPDATE {table} r SET status = '{_word(RunStatus.RUNNING)}', lease_token = %s, "
        "lease_until = %s, started_at = COALESCE(r.started_at, %s) "
        f"FROM {Installation._meta.db_table} i, "
        f"(SELECT started_at, status, lease_until FROM {table} WHERE id = %s FOR NO KEY UPDATE) old "
        f"WHERE r.id = %s AND i.id = r.installation_id "
        f"AND r.status IN ('{_word(RunStatus.QUEUED)}', '{_word(RunStatus.RUNNING)}') "
        "AND (r.lease_until IS NULL OR r.lease_until < %s OR r.lease_token = %s) "
        f"RETURNING old.status = '{_word(RunStatus.QUEUED)}' AND old.started_at IS NULL "
        f"AND old.lease_until IS NULL, {runs.sql}, {installations.sql}"
    )
    return sql, runs, installations


def _claim_prepared(run_id: int, token: str, now, until) -> Claim | None:
    sql, runs, installations = _claim_statement()
    row = fetchone_prepared(sql, [token, until, now, run_id, run_id, now, token])
    if row is None:
        return None
    run = runs.build(row, 1)
    run.installation = installations.build(row, 1 + runs.width)
    return Claim(token, run, bool(row[0]))


def _word(value: str) -> str:
    if not value.isidentifier():  # written into SQL: a constant, never input
        raise ValueError(value)
    return value


def renew(run: FlowRun, token: str) -> bool:
    until = timezone.now() + timedelta(seconds=lease_seconds())
    return bool(FlowRun.objects.filter(pk=run.pk, lease_token=token).update(lease_until=until))


def release(run: FlowRun, token: str, **fields) -> None:
    """Give up the lease (if still ours), writing ``fields`` to the run in the same statement."""
    FlowRun.objects.filter(pk=run.pk, lease_token=token).update(lease_token="", lease_until=None, **fields)


def release_finished(run: FlowRun, token: str, status: str, error: str, *, step: FlowRunStep | None = None) -> None:
    """``release`` for a run that ended, saving its last ``step`` too: once per run, so on
    PostgreSQL one prepared statement (the step's UPDATE as a WITH part) and one commit."""
    now = timezone.now()
    if step is not None and (step._state.adding or connection.vendor != "postgresql"):
        save_prepared(step)  # a new row (failed before it was sent), or not PostgreSQL
        step = None
    if connection.vendor != "postgresql":
        release(run, token, status=status, error=error, finished_at=now, next_attempt_at=None)
        return
    sql = (f"UPDATE {FlowRun._meta.db_table} SET lease_token = '', lease_until = NULL, status = %s, error = %s, "
           "finished_at = %s, next_attempt_at = NULL WHERE id = %s AND lease_token = %s")
    params = [str(status), error, now, run.pk, token]
    if step is not None:
        step_sql, step_params = update_statement(step)
        sql, params = f"WITH saved_step AS ({step_sql}) {sql}", [*step_params, *params]
    execute_prepared(sql, params)
