"""The Celery app for the end-to-end sweeper test: the project's app plus one counting processor.

The processor counts its calls per event in Redis (``E2E_COUNTER_REDIS_URL``), so the test can
show that every event is processed exactly once however often it is enqueued.
"""

import os

import django

from config.celery import app  # noqa: F401  (the -A target)

django.setup()

import redis  # noqa: E402

from webhooks import extensions  # noqa: E402

_counter = redis.Redis.from_url(os.environ["E2E_COUNTER_REDIS_URL"])


def _count(event) -> None:
    _counter.incr(f"e2e:processed:{event.pk}")


extensions._PROCESSORS.clear()  # only ours: the test is about delivery, not other apps' processing
extensions.register_processor("e2e_counter", _count)
