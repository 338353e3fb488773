"""The Celery app (named ``config``). Queues: webhooks, flows, bootstrap, default.

Each app may declare periodic work in its own ``schedules.py`` as ``SCHEDULE = {...}``
(Celery beat entries); they are merged here so no app edits shared settings.
"""

from __future__ import annotations

import importlib
import os

from celery import Celery, signals
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [Queue(name) for name in ("webhooks", "flows", "bootstrap", "default")]
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


@signals.task_prerun.connect
def _bind_task_log_context(task_id: str | None = None, task=None, **_: object) -> None:
    from addons.logging import bind_log_context, clear_log_context

    clear_log_context()
    bind_log_context(task_id=task_id, task=getattr(task, "name", None))
