"""Celery app for the fault tests: the project's app, every real processor, plus one that counts.

The counting processor appends the event id to ``FAULT_COUNTER_FILE`` (one short O_APPEND write
per call, atomic across the pool's processes), so a test can show that each event's processors
ran exactly once, however often its task was delivered. It lives outside Redis and PostgreSQL on
purpose: those are what the tests break.
"""

import os

import django

from config.celery import app  # noqa: F401  (the -A target)

django.setup()

from webhooks.extensions import register_processor  # noqa: E402

_COUNTER = os.environ["FAULT_COUNTER_FILE"]


def _count(event) -> None:
    fd = os.open(_COUNTER, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{event.pk}\n".encode())
    finally:
        os.close(fd)


register_processor("fault_counter", _count)
