"""Periodic bootstrap work, merged into the beat schedule by config.celery."""

SCHEDULE = {
    "bootstrap-sweep": {"task": "bootstrap.sweep", "schedule": 60.0},
}
