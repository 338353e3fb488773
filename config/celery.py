"""The Celery app (named ``config``). Queues: webhooks, flows, bootstrap, default.

Each app may declare periodic work in its own ``schedules.py`` as ``SCHEDULE = {...}``
(Celery beat entries); they are merged here so no app edits shared settings.
"""

from __future__ import annotations

import importlib
import os
import time

from celery import Celery, beat, signals
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [Queue(name) for name in ("webhooks", "flows", "bootstrap", "default")]
# Celery's Django fixup closes every database connection before and after each task unless this is
# set; reconnecting then costs more than most of our tasks (measured: ~25% of a flows worker's time).
# Connections are instead kept like Django keeps them between requests (CONN_MAX_AGE, health
# checks): see _recycle_db_connections below.
app.conf.CELERY_DB_REUSE_MAX = 10**9
app.autodiscover_tasks()

SCHEDULE_APPS = ("installations", "webhooks", "bootstrap", "flows", "explorer")


@app.on_after_finalize.connect
def _merge_app_schedules(sender: Celery, **_: object) -> None:
    schedule = dict(sender.conf.beat_schedule or {})
    for app_label in SCHEDULE_APPS:
        try:
            module = importlib.import_module(f"{app_label}.schedules")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app_label}.schedules":
                raise
            continue
        schedule.update(getattr(module, "SCHEDULE", {}))
    sender.conf.beat_schedule = schedule


# A connection that finished a task without a database error less than this long ago is not
# health-checked again before the next task (a SELECT 1 round trip per task otherwise). If it did
# die in between, that task fails and the connection is replaced before the next one.
_RECENTLY_HEALTHY_SECONDS = 1.0


@signals.task_prerun.connect
def _recycle_db_connections(task=None, **_: object) -> None:
    """What Django does around each request: drop connections that are broken or past CONN_MAX_AGE
    (and health-check the others on next use), so a restarted PostgreSQL is recovered from."""
    from django.db import close_old_connections, connections

    if task is not None and getattr(task.request, "is_eager", False):
        return  # inline in the caller's transaction (tests, eager mode): not ours to close
    close_old_connections()
    now = time.monotonic()
    for db in connections.all(initialized_only=True):
        if db.connection is not None and now - getattr(db, "_healthy_at", float("-inf")) < _RECENTLY_HEALTHY_SECONDS:
            db.health_check_done = True


@signals.task_postrun.connect
def _note_healthy_db_connections(task=None, **_: object) -> None:
    from django.db import close_old_connections, connections

    if task is not None and getattr(task.request, "is_eager", False):
        return
    now = time.monotonic()
    for db in connections.all(initialized_only=True):
        if db.connection is not None and not db.errors_occurred:
            db._healthy_at = now
    close_old_connections()  # as Django does when a request finishes: past CONN_MAX_AGE -> closed


@signals.task_prerun.connect
def _bind_task_log_context(task_id: str | None = None, task=None, **_: object) -> None:
    from addons.logging import bind_log_context, clear_log_context

    clear_log_context()
    bind_log_context(task_id=task_id, task=getattr(task, "name", None))


@signals.worker_init.connect
@signals.beat_init.connect
def _refuse_misconfiguration(sender=None, **_: object) -> None:
    """A worker or beat with missing or weakening settings stops before taking any task. Celery
    logs and ignores an exception from a signal handler, so this one exits."""
    import django
    from django.core.exceptions import ImproperlyConfigured

    django.setup()  # idempotent; Celery's Django fixup may not have run yet
    from config.startup import refuse_misconfiguration

    try:
        refuse_misconfiguration("beat" if isinstance(sender, beat.Service) else "worker")
    except ImproperlyConfigured as exc:
        raise SystemExit(f"ImproperlyConfigured: {exc}") from None


@signals.worker_init.connect
def _serve_worker_metrics(**_: object) -> None:
    """Expose the worker's metrics (all prefork children) on METRICS_WORKER_PORT, when set.

    Needs PROMETHEUS_MULTIPROC_DIR so that each child process writes its samples to a shared
    folder, which this collector in the parent aggregates at scrape time.
    """
    port = os.environ.get("METRICS_WORKER_PORT")
    if not port:
        return
    from prometheus_client import REGISTRY, CollectorRegistry, multiprocess, start_http_server

    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    start_http_server(int(port), addr=os.environ.get("METRICS_WORKER_ADDR", "127.0.0.1"), registry=registry)
