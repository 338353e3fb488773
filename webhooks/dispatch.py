"""Enqueueing ``webhooks.process_event`` from the hot path.

With a Redis broker a background thread gathers the events committed in the last few
milliseconds (see _Batcher) and pushes one message carrying all their ids, the one
``config.enqueue`` builds (what Celery itself would publish): a webhook request pays a list
append instead of a Redis round trip, and a worker consumes one message per batch instead of one
per event. Every other broker (the embedded filesystem one, eager mode in tests) goes through
``config.enqueue.enqueue_on_commit``. Either way the push happens after commit and a failure is
logged and left to the sweeper (services.processing.webhook_events_sweep): the row is durable.
The end-to-end sweeper test runs a real worker on messages sent both ways.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time

from django.db import transaction

from config.enqueue import (
    MAX_IDS_PER_MESSAGE,
    enqueue_on_commit,
    fast_path_broker,
    redis_client,
    task_message,
    task_queue,
)

logger = logging.getLogger("webhooks.dispatch")


def enqueue_process_event(event_id: int) -> None:
    """Have ``webhooks.process_event(event_id)`` run once the current transaction commits."""
    from webhooks.tasks import process_event

    broker = fast_path_broker(process_event.app)
    if broker is None:
        enqueue_on_commit(process_event, event_id)
        return
    transaction.on_commit(lambda: _batcher.add(broker, int(event_id)))


class _Batcher:
    """Sends pending event ids from a background thread, many per message.

    A request only appends to a list; the thread wakes, waits ``FLUSH_DELAY`` for more to gather
    and pushes them as one message (at most MAX_IDS_PER_MESSAGE ids each) in one command. Ids
    still pending when a process dies are not lost: their events are ``received`` rows, which the
    sweeper re-enqueues.
    """

    FLUSH_DELAY = 0.01

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._pending: list[tuple[str, int]] = []
        self._pid: int | None = None

    def add(self, broker: str, event_id: int) -> None:
        with self._lock:
            if self._pid != os.getpid():  # first use in this process (also after a fork)
                self._pid = os.getpid()
                self._pending = []
                threading.Thread(target=self._run, name="webhooks-dispatch", daemon=True).start()
            first = not self._pending
            self._pending.append((broker, event_id))
        if first:  # the thread wakes once per batch, not once per event
            self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            time.sleep(self.FLUSH_DELAY)
            self._wake.clear()
            self.flush()

    def flush(self) -> None:
        from webhooks.tasks import process_event

        with self._lock:
            batch, self._pending = self._pending, []
        by_broker: dict[str, list[int]] = {}
        for broker, event_id in batch:
            by_broker.setdefault(broker, []).append(event_id)
        for broker, ids in by_broker.items():
            try:  # whatever fails, this thread must live on: the next batches depend on it
                messages = [task_message(process_event, tuple(ids[start:start + MAX_IDS_PER_MESSAGE]))
                            for start in range(0, len(ids), MAX_IDS_PER_MESSAGE)]
                redis_client(broker).lpush(task_queue(process_event), *messages)
            except Exception as exc:  # broker down: the sweeper re-enqueues from the database
                logger.warning("enqueue_failed", extra={"task": process_event.name, "error": type(exc).__name__,
                                                        "count": len(ids)})


_batcher = _Batcher()
atexit.register(_batcher.flush)  # a clean shutdown sends what is pending
