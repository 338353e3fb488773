from celery.schedules import crontab

SCHEDULE = {
    "retention": {"task": "installations.retention", "schedule": crontab(minute=17)},  # hourly
}
