"""Periodic explorer work (merged into Celery beat by config.celery)."""

from celery.schedules import crontab

SCHEDULE = {
    "explorer-sync-openapi": {"task": "explorer.sync_openapi", "schedule": crontab(minute=17, hour=3)},
}
