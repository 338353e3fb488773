"""The one way side effects are enqueued: after the surrounding transaction commits.

A task enqueued inside a transaction that later rolls back would act on rows that do not
exist; deferring to ``on_commit`` makes "stored" happen-before "enqueued". If the broker is
unreachable the error is logged and swallowed: the row is already durable and the periodic
sweepers pick it up, so a request never fails because the broker is down.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

logger = logging.getLogger("platform.enqueue")


def enqueue_on_commit(task: Any, *args: Any, **kwargs: Any) -> None:
    """Send ``task.delay(*args, **kwargs)`` once the current transaction commits."""

    def _send() -> None:
        if task.app.conf.task_always_eager:  # tests: let errors surface
            task.apply_async(args=args, kwargs=kwargs)
            return
        try:
            task.apply_async(args=args, kwargs=kwargs)
        except Exception as exc:  # broker down: the sweeper re-enqueues from the database
            logger.warning("enqueue_failed", extra={"task": task.name, "error": type(exc).__name__})

    transaction.on_commit(_send)
