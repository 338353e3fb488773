"""The one way side effects are enqueued: after the surrounding transaction commits.

A task enqueued inside a transaction that later rolls back would act on rows that do not
exist; deferring to ``on_commit`` makes "stored" happen-before "enqueued". If the broker is
unreachable the error is logged and swallowed: the row is already durable and the periodic
sweepers pick it up, so a request never fails because the broker is down.

With a Redis broker the message is pushed with one LPUSH of the exact message Celery would
publish (protocol v2, JSON body, the task's queue from the routes): measured here, Celery's
``apply_async`` costs ~0.8 ms per call with Redis (kombu builds a new Redis client per publish)
against ~0.1 ms for the push, and on the flows path it was 7% of a worker's CPU. Other brokers
(the embedded filesystem one), eager mode (tests), keyword arguments and arguments other than
ints and strings go through ``apply_async``. The real-worker tests (webhooks sweeper, flows
worker) consume messages sent both ways; a Celery upgrade must keep them green.

Each message costs a worker more than most of our tasks' own work (bench/flows: consuming,
acknowledging and tracing one took ~0.4 ms of CPU). Tasks that take any number of ids
(``takes_many_ids=True`` on the task) are therefore sent one message for many ids where ids
gather on their own: the web's dispatch batch (webhooks.dispatch), and the enqueues made while a
``coalesced()`` block runs (a worker processing such a batch).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import socket
import threading
import uuid
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, Iterator

from django.db import transaction

logger = logging.getLogger("platform.enqueue")


def enqueue_on_commit(task: Any, *args: Any, **kwargs: Any) -> None:
    """Send ``task.delay(*args, **kwargs)`` once the current transaction commits."""
    transaction.on_commit(lambda: enqueue_now(task, *args, **kwargs))


# Ids per message at most: a message stays small and its task short.
MAX_IDS_PER_MESSAGE = 50

_coalescing = threading.local()  # Celery's thread pool runs each task on one thread


@contextmanager
def coalesced() -> Iterator[None]:
    """Hold the enqueues of ``takes_many_ids`` tasks made in this block (directly or on commit) and
    send them when it ends, as one message per task carrying all their ids.

    The block's own work (e.g. a batch of events, each in its own transaction) thus starts one
    task for everything it committed; what was committed is sent even if the block raises.
    Nested blocks are part of the outermost one.
    """
    if getattr(_coalescing, "pending", None) is not None:
        yield
        return
    _coalescing.pending = {}
    try:
        yield
    finally:
        pending, _coalescing.pending = _coalescing.pending, None
        for task, ids in pending.values():
            for start in range(0, len(ids), MAX_IDS_PER_MESSAGE):
                enqueue_now(task, *ids[start:start + MAX_IDS_PER_MESSAGE])


def enqueue_now(task: Any, *args: Any, **kwargs: Any) -> None:
    """Send ``task.delay(*args, **kwargs)`` now; a broker error is logged, not raised."""
    pending = getattr(_coalescing, "pending", None)
    if pending is not None and not kwargs and getattr(task, "takes_many_ids", False):
        pending.setdefault(task.name, (task, []))[1].extend(args)
        return
    app = task.app
    if app.conf.task_always_eager:  # tests: let errors surface
        task.apply_async(args=args, kwargs=kwargs)
        return
    try:
        broker = fast_path_broker(app)
        if broker is not None and not kwargs and _plain(args):
            redis_client(broker).lpush(task_queue(task), task_message(task, args))
        else:
            task.apply_async(args=args, kwargs=kwargs)
    except Exception as exc:  # broker down: the sweeper re-enqueues from the database
        logger.warning("enqueue_failed", extra={"task": task.name, "error": type(exc).__name__})


def _plain(args: tuple) -> bool:
    # repr() of these is exactly Celery's argsrepr, and json.dumps exactly its body.
    return all(type(arg) in (int, str) for arg in args)


@lru_cache(maxsize=4)
def redis_client(broker_url: str):
    import redis

    return redis.Redis.from_url(broker_url, socket_timeout=2, socket_connect_timeout=1)


@lru_cache(maxsize=4)
def fast_path_broker(app) -> str | None:
    """The Redis broker URL when messages may be pushed directly; None to use ``apply_async``."""
    # Celery's conf lookups are slow enough to matter on the hot path, and fixed once the process runs.
    conf = app.conf
    url = str(conf.broker_url or "")
    if conf.task_always_eager or not url.startswith(("redis://", "rediss://")):
        return None
    if (conf.broker_transport_options or {}).get("global_keyprefix"):
        return None  # kombu would prefix the queue key; let it do the publishing
    return url


@lru_cache(maxsize=32)
def task_queue(task) -> str:
    """The queue Celery's router sends this task to (a Redis list of that name)."""
    route = task.app.amqp.router.route({}, task.name, (), {})
    queue = route.get("queue")
    return getattr(queue, "name", None) or str(queue or task.app.conf.task_default_queue)


_ORIGIN = f"gen{os.getpid()}@{socket.gethostname()}"
_MARKER = "\x00"


@lru_cache(maxsize=32)
def _message_template(task) -> str:
    """The message Celery would publish for ``task``, as a %-template with the fields body, id,
    argsrepr and tag.

    Built once from the same structure kombu sends; per message only the ids and body change, so
    the hot path formats a string instead of serialising nested dicts twice.
    """
    conf = task.app.conf
    time_limits = [task.time_limit or conf.task_time_limit, task.soft_time_limit or conf.task_soft_time_limit]
    message = json.dumps({
        "body": _MARKER + "body", "content-encoding": "utf-8", "content-type": "application/json",
        "headers": {
            "lang": "py", "task": task.name, "id": _MARKER + "id", "shadow": None, "eta": None, "expires": None,
            "group": None, "group_index": None, "retries": 0, "timelimit": time_limits,
            "root_id": _MARKER + "id", "parent_id": None, "argsrepr": _MARKER + "argsrepr", "kwargsrepr": "{}",
            "origin": _ORIGIN, "ignore_result": True,
            "replaced_task_nesting": 0, "stamped_headers": None, "stamps": {},
        },
        "properties": {
            "correlation_id": _MARKER + "id", "delivery_mode": 2,
            "delivery_info": {"exchange": "", "routing_key": task_queue(task)},
            "priority": 0, "body_encoding": "base64", "delivery_tag": _MARKER + "tag",
        },
    })
    escaped = json.dumps(_MARKER)[1:-1]  # how json writes the marker inside a string
    message = message.replace("%", "%%")
    for name in ("body", "id", "argsrepr", "tag"):
        message = message.replace(escaped + name, f"%({name})s")
    return message


def task_message(task: Any, args: tuple) -> str:
    """The serialised message that runs ``task(*args)`` (ints and strings only), ready to LPUSH."""
    task_id = str(uuid.uuid4())
    body = f'[{json.dumps(list(args))}, {{}}, {{"callbacks": null, "errbacks": null, "chain": null, "chord": null}}]'
    return _message_template(task) % {
        "body": base64.b64encode(body.encode()).decode(), "id": task_id,
        # argsrepr is shown by monitoring tools; json.dumps keeps it valid inside the template's string
        "argsrepr": json.dumps(repr(tuple(args)))[1:-1], "tag": f"{task_id}-d",
    }
