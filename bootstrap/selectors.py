"""Bootstrap and entity cache reads, always scoped by installation."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Max, Q, Sum

from bootstrap.endpoints import ENDPOINTS, SETTINGS_STEP
from bootstrap.models import BootstrapRun, BootstrapStep, CachedEntity, StepStatus
from installations.models import Installation


def entity_get(*, installation: Installation, entity_type: str, entity_id: str) -> dict | None:
    """The cached JSON of one entity (for flow templates: ``{{cache.<type>.<id>.…}}``)."""
    return (
        CachedEntity.objects.filter(installation=installation, entity_type=entity_type, entity_id=entity_id)
        .values_list("data", flat=True)
        .first()
    )


def entity_counts(*, installation: Installation) -> dict[str, int]:
    """Cached entities per type (for the dashboard)."""
    rows = (CachedEntity.objects.filter(installation=installation).values("entity_type")
            .annotate(n=Count("pk")).order_by("entity_type"))
    return {row["entity_type"]: row["n"] for row in rows}


def entity_list(*, installation: Installation, entity_type: str, limit: int = 50, offset: int = 0) -> list[dict]:
    qs = (CachedEntity.objects.filter(installation=installation, entity_type=entity_type)
          .order_by("entity_id").values_list("data", flat=True))
    return list(qs[offset:offset + max(0, min(limit, 500))])


def bootstrap_run_latest(*, installation: Installation) -> BootstrapRun | None:
    return BootstrapRun.objects.filter(installation=installation).order_by("-created_at", "-pk").first()


def bootstrap_progress(*, installation: Installation) -> dict[str, Any]:
    """The latest run and its progress per endpoint (fan-out steps, e.g. tasks per project,
    summed into one row), for the dashboard and the status API."""
    run = bootstrap_run_latest(installation=installation)
    if run is None:
        return {"run": None, "endpoints": [], "totals": {}}
    rows = (
        BootstrapStep.objects.filter(run=run, installation=installation).values("endpoint")
        .annotate(
            steps=Count("pk"),
            pending=Count("pk", filter=Q(status=StepStatus.PENDING)),
            running=Count("pk", filter=Q(status=StepStatus.RUNNING)),
            done=Count("pk", filter=Q(status=StepStatus.DONE)),
            failed=Count("pk", filter=Q(status=StepStatus.FAILED)),
            skipped=Count("pk", filter=Q(status=StepStatus.SKIPPED)),
            truncated=Count("pk", filter=Q(truncated=True)),
            pages=Sum("pages"), items=Sum("items"), priority=Max("priority"),
        )
        .order_by("priority", "endpoint")
    )
    errors: dict[str, str] = {}  # the newest error per endpoint
    for endpoint, error in (BootstrapStep.objects.filter(run=run, installation=installation).exclude(last_error="")
                            .order_by("-updated_at").values_list("endpoint", "last_error")):
        errors.setdefault(endpoint, error)
    endpoints = []
    for row in rows:
        if row["failed"]:
            status = StepStatus.FAILED
        elif row["running"] or (row["pending"] and row["done"] + row["skipped"]):
            status = StepStatus.RUNNING
        elif row["pending"]:
            status = StepStatus.PENDING
        elif row["done"]:
            status = StepStatus.DONE
        else:
            status = StepStatus.SKIPPED
        spec = ENDPOINTS.get(row["endpoint"])
        endpoints.append({
            "endpoint": row["endpoint"],
            "entity_type": spec.entity_type if spec else ("settings" if row["endpoint"] == SETTINGS_STEP else ""),
            "status": str(status),
            "steps": row["steps"], "done": row["done"], "failed": row["failed"], "skipped": row["skipped"],
            "pages": row["pages"] or 0, "items": row["items"] or 0,
            "truncated": bool(row["truncated"]),
            "last_error": errors.get(row["endpoint"], ""),
        })
    totals = {
        "steps": sum(e["steps"] for e in endpoints),
        "done": sum(e["done"] + e["skipped"] for e in endpoints),
        "failed": sum(e["failed"] for e in endpoints),
        "pages": sum(e["pages"] for e in endpoints),
        "items": sum(e["items"] for e in endpoints),
    }
    totals["percent"] = round(100 * totals["done"] / totals["steps"], 1) if totals["steps"] else 0.0
    return {
        "run": {
            "id": run.pk, "status": run.status, "trigger": run.trigger, "error": run.error,
            "created_at": run.created_at, "started_at": run.started_at, "finished_at": run.finished_at,
            "options": run.options,
        },
        "endpoints": endpoints,
        "totals": totals,
    }
