from celery import shared_task
from django.conf import settings

from installations.retention import retention_run


@shared_task(name="installations.retention")
def run_retention() -> int:
    results = retention_run(time_budget_seconds=settings.RETENTION_TIME_BUDGET_SECONDS)
    return sum(r.count for r in results)
