"""Periodic flow work (merged into Celery beat by config.celery)."""

# Run retention is part of the shared hourly `installations.retention` task.
SCHEDULE = {
    "flows-requeue-stalled-runs": {"task": "flows.requeue_stalled_runs", "schedule": 60.0},
}
