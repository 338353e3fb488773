"""Periodic explorer work (merged into Celery beat by config.celery)."""

from celery.schedules import crontab

# Hourly check; the task fetches only when the cached document is older than OPENAPI_SYNC_MAX_AGE_SECONDS
# (or there is none yet, or its last fetch failed).
SCHEDULE = {
    "explorer-sync-openapi": {"task": "explorer.sync_openapi", "schedule": crontab(minute=17)},
}
