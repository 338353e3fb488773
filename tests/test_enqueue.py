"""config.enqueue: the directly pushed message is the one Celery would publish; config.broker's
transport reuses one Redis client. A Celery or kombu upgrade that changes either shows here first;
the real-worker tests (webhooks sweeper, flows worker) then consume such messages end to end."""

from __future__ import annotations

import base64
import json
import os
import uuid

import pytest
import redis
from kombu import Connection

from config.enqueue import task_message, task_queue
from flows.tasks import execute_run
from webhooks.tasks import process_event

REDIS_URL = os.environ.get("REDIS_URL", "")
needs_redis = pytest.mark.skipif(not REDIS_URL.startswith("redis://"), reason="needs REDIS_URL (a Redis server)")

# Fields that differ on every message by design (ids, who sent it). reply_to names the sender's
# result queue: results are ignored (CELERY_TASK_IGNORE_RESULT), so the pushed message has none.
_PER_MESSAGE = {("headers", "id"), ("headers", "root_id"), ("headers", "origin"),
                ("properties", "correlation_id"), ("properties", "delivery_tag"), ("properties", "reply_to")}


def _celery_message(task, args: tuple) -> dict:
    """What Celery itself publishes for ``task`` (to a private queue, read back from Redis)."""
    queue = f"test-enqueue-{uuid.uuid4().hex}"
    client = redis.Redis.from_url(REDIS_URL)
    with Connection(REDIS_URL) as conn:
        task.apply_async(args, connection=conn, queue=queue)
    try:
        [raw] = client.lrange(queue, 0, -1)
    finally:
        client.delete(queue)
    message = json.loads(raw)
    message["properties"]["delivery_info"]["routing_key"] = task_queue(task)  # we asked for another queue
    return message


def _comparable(message: dict) -> dict:
    out = {key: value for key, value in message.items() if key not in ("headers", "properties", "body")}
    for part in ("headers", "properties"):
        out[part] = {key: value for key, value in message[part].items() if (part, key) not in _PER_MESSAGE}
    out["body"] = json.loads(base64.b64decode(message["body"]))
    return out


@needs_redis
@pytest.mark.parametrize(("task", "args"), [(process_event, (42,)), (execute_run, (7,))])
def test_the_pushed_message_is_celerys(task, args):
    ours = json.loads(task_message(task, args))
    assert _comparable(ours) == _comparable(_celery_message(task, args))
    assert ours["headers"]["id"] == ours["headers"]["root_id"] == ours["properties"]["correlation_id"]
    assert ours["properties"]["delivery_tag"] != json.loads(task_message(task, args))["properties"]["delivery_tag"]


def test_tasks_are_routed_to_their_queues():
    assert task_queue(process_event) == "webhooks" and task_queue(execute_run) == "flows"


@needs_redis
def test_the_broker_transport_reuses_its_redis_client():
    from config.celery import app

    with app.connection_for_write() as conn:
        channel = conn.default_channel
        assert type(conn.transport).__module__ == "config.broker"
        first = channel._create_client()
        assert channel._create_client() is first
        assert first.ping()
        channel._pool = None  # what kombu does after a connection error: a new pool, a new client
        assert channel._create_client() is not first


@needs_redis
def test_coalesced_enqueues_go_out_as_one_message_per_task(monkeypatch):
    from config import enqueue
    from flows.tasks import requeue_stalled_runs

    monkeypatch.setattr(enqueue, "MAX_IDS_PER_MESSAGE", 4)
    client = redis.Redis.from_url(REDIS_URL)
    before = {queue: client.llen(queue) for queue in ("flows", "webhooks")}
    with enqueue.coalesced():
        enqueue.enqueue_now(execute_run, 1)
        with enqueue.coalesced():  # nested: part of the outer block
            enqueue.enqueue_now(execute_run, 2, 3)
        enqueue.enqueue_now(process_event, 10)
        enqueue.enqueue_now(requeue_stalled_runs)  # takes no ids: sent at once, not held
        assert client.llen("flows") == before["flows"] + 1 and client.llen("webhooks") == before["webhooks"]
        enqueue.enqueue_now(execute_run, 4, 5)
    sent = {queue: [json.loads(raw) for raw in client.lrange(queue, 0, client.llen(queue) - before[queue] - 1)]
            for queue in ("flows", "webhooks")}
    client.lpop("flows", len(sent["flows"]))
    client.lpop("webhooks", len(sent["webhooks"]))
    bodies = {queue: sorted(json.loads(base64.b64decode(m["body"]))[0] for m in messages if m["headers"]["task"]
                            != "flows.requeue_stalled_runs") for queue, messages in sent.items()}
    assert bodies == {"flows": [[1, 2, 3, 4], [5]], "webhooks": [[10]]}  # at most 4 ids per message
