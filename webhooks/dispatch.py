"""Enqueueing ``webhooks.process_event`` from the hot path.

Measured here, Celery's ``apply_async`` costs ~0.8 ms per call with the Redis broker (kombu builds a
new Redis client per publish), over twice the INSERT that stores the event; it alone kept ingestion
far below its target (bench/ingest). With a Redis broker we therefore push the message Celery itself
would publish (message protocol v2, JSON body, the task's queue from the routes) with one LPUSH,
about 0.1 ms, and a background thread batches those pushes (see _Batcher). Every other broker (the embedded filesystem one, eager mode in tests) goes through
``config.enqueue.enqueue_on_commit``. Either way the push happens after commit and a failure is
logged and left to the sweeper (services.processing.webhook_events_sweep): the row is durable.
The end-to-end sweeper test runs a real worker on messages sent both ways.
"""

from __future__ import annotations

import atexit
import base64
import json
import logging
import os
import socket
import threading
import time
import uuid
from functools import lru_cache

from django.db import transaction

from config.enqueue import enqueue_on_commit

logger = logging.getLogger("webhooks.dispatch")

TASK_NAME = "webhooks.process_event"
QUEUE = "webhooks"


@lru_cache(maxsize=4)
def _redis_client(broker_url: str):
    import redis

    return redis.Redis.from_url(broker_url, socket_timeout=2, socket_connect_timeout=1)


@lru_cache(maxsize=4)
def _fast_path_broker(app) -> str | None:
    # Celery's conf lookups are slow enough to matter here, and fixed once the process runs.
    conf = app.conf
    url = str(conf.broker_url or "")
    if conf.task_always_eager or not url.startswith(("redis://", "rediss://")):
        return None
    if (conf.broker_transport_options or {}).get("global_keyprefix"):
        return None  # kombu would prefix the queue key; let it do the publishing
    return url


@lru_cache(maxsize=4)
def _time_limits(app) -> tuple:
    return (app.conf.task_time_limit, app.conf.task_soft_time_limit)


_ORIGIN = f"gen{os.getpid()}@{socket.gethostname()}"


@lru_cache(maxsize=4)
def _message_template(app) -> str:
    """The message Celery would publish, as a %-template with the fields body, id, argsrepr and tag.

    Built once from the same structure kombu sends; per event only the ids and body change, so
    the hot path formats a string instead of serialising nested dicts twice.
    """
    marker = "\x00"
    message = json.dumps({
        "body": marker + "body", "content-encoding": "utf-8", "content-type": "application/json",
        "headers": {
            "lang": "py", "task": TASK_NAME, "id": marker + "id", "shadow": None, "eta": None, "expires": None,
            "group": None, "group_index": None, "retries": 0,
            "timelimit": list(_time_limits(app)),
            "root_id": marker + "id", "parent_id": None, "argsrepr": marker + "argsrepr", "kwargsrepr": "{}",
            "origin": _ORIGIN, "ignore_result": True,
            "replaced_task_nesting": 0, "stamped_headers": None, "stamps": {},
        },
        "properties": {
            "correlation_id": marker + "id", "delivery_mode": 2,
            "delivery_info": {"exchange": "", "routing_key": QUEUE},
            "priority": 0, "body_encoding": "base64", "delivery_tag": marker + "tag",
        },
    })
    escaped = json.dumps(marker)[1:-1]  # how json writes the marker inside a string
    message = message.replace("%", "%%")
    for name, spec in (("body", "%(body)s"), ("id", "%(id)s"), ("argsrepr", "%(argsrepr)s"), ("tag", "%(tag)s")):
        message = message.replace(escaped + name, spec)
    return message


def _message(app, event_id: int) -> str:
    task_id = str(uuid.uuid4())
    body = f'[[{int(event_id)}], {{}}, {{"callbacks": null, "errbacks": null, "chain": null, "chord": null}}]'
    return _message_template(app) % {
        "body": base64.b64encode(body.encode()).decode(), "id": task_id,
        "argsrepr": f"({int(event_id)},)", "tag": f"{task_id}-d",
    }


def enqueue_process_event(event_id: int) -> None:
    """Have ``webhooks.process_event(event_id)`` run once the current transaction commits."""
    from webhooks.tasks import process_event

    app = process_event.app
    broker = _fast_path_broker(app)
    if broker is None:
        enqueue_on_commit(process_event, event_id)
        return

    transaction.on_commit(lambda: _batcher.add(broker, _message(app, event_id)))


class _Batcher:
    """Sends pending messages from a background thread, many per LPUSH.

    A request only appends to a list; the thread wakes, waits ``FLUSH_DELAY`` for more to gather
    and pushes them in one command, so the per-event cost is a list append rather than a Redis
    round trip. Messages still pending when a process dies are not lost: their events are
    ``received`` rows, which the sweeper re-enqueues.
    """

    FLUSH_DELAY = 0.01

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._pending: list[tuple[str, str]] = []
        self._pid: int | None = None

    def add(self, broker: str, message: str) -> None:
        with self._lock:
            if self._pid != os.getpid():  # first use in this process (also after a fork)
                self._pid = os.getpid()
                self._pending = []
                threading.Thread(target=self._run, name="webhooks-dispatch", daemon=True).start()
            first = not self._pending
            self._pending.append((broker, message))
        if first:  # the thread wakes once per batch, not once per message
            self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            time.sleep(self.FLUSH_DELAY)
            self._wake.clear()
            self.flush()

    def flush(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
        by_broker: dict[str, list[str]] = {}
        for broker, message in batch:
            by_broker.setdefault(broker, []).append(message)
        for broker, messages in by_broker.items():
            try:
                _redis_client(broker).lpush(QUEUE, *messages)
            except Exception as exc:  # broker down: the sweeper re-enqueues from the database
                logger.warning("enqueue_failed", extra={"task": TASK_NAME, "error": type(exc).__name__,
                                                        "count": len(messages)})


_batcher = _Batcher()
atexit.register(_batcher.flush)  # a clean shutdown sends what is pending
