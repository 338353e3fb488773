"""Bootstrap through real Celery worker processes against the stand-in (PostgreSQL + Redis)."""

from __future__ import annotations

from collections import Counter

import pytest

from bootstrap.models import BootstrapStep, RunStatus, StepStatus
from bootstrap.selectors import entity_counts

pytestmark = pytest.mark.e2e

CAP = 10  # bootstrap_max_rps for these tests: small, so a few hundred requests show the cap


def _settings_doc(**values):
    return {"tabs": [{"id": "general", "name": "General", "groups": [{"id": "bootstrap", "title": "Bootstrap",
            "settings": [{"id": k, "name": k, "type": "TXT", "value": v} for k, v in values.items()]}]}]}


def _prepare(standin, make_workspace, *, size: int, **values):
    import uuid

    ws = make_workspace("universal-webhook", workspace_id=uuid.uuid4().hex[:24])
    ws.minter.backend_url = standin.backend_url
    standin.seed_workspace(ws.workspace_id, size=size, seed=5)
    standin.set_addon_settings(ws.workspace_id, _settings_doc(bootstrap_max_rps=str(CAP), **values))
    return ws


def test_four_worker_processes_share_the_workspace_cap(standin, make_workspace, client, bootstrap_worker,
                                                       wait_for_run):
    """Installing starts the bootstrap; 4 worker processes fetch the same workspace at once, and
    the stand-in never sees more than the cap in any one-second window."""
    from installations.models import Installation

    ws = _prepare(standin, make_workspace, size=400, include_time_entries="true", time_entry_days_back="365")
    bootstrap_worker(concurrency=4)
    assert ws.lifecycle(client, "INSTALLED").status_code == 200
    installation = Installation.objects.get(workspace_id=ws.workspace_id)

    run = wait_for_run(installation, timeout=180)

    assert run.status == RunStatus.DONE, run.error
    assert run.trigger == "install"
    requests = standin.request_log.count(workspace_id=ws.workspace_id)
    assert requests > 3 * CAP  # long enough for the one-second windows to mean something
    assert standin.request_log.peak_per_second(ws.workspace_id) <= CAP
    assert standin.request_log.count(workspace_id=ws.workspace_id, status=429) == 0
    workers = set(BootstrapStep.objects.filter(run=run).values_list("claimed_by", flat=True))
    assert len(workers) >= 2, workers  # the steps really were spread over processes
    data = standin.workspace(ws.workspace_id)
    counts = entity_counts(installation=installation)
    for entity_type in ("users", "clients", "projects", "tasks", "tags", "custom-fields", "user-groups"):
        assert counts[entity_type] == len(data.entities[entity_type]), entity_type


def test_a_killed_worker_is_resumed_by_another(standin, make_workspace, client, bootstrap_worker, wait_for_run,
                                               settings):
    """SIGKILL the worker halfway; after its leases expire the sweeper hands the run to a new
    worker, which continues from the stored pages instead of starting over."""
    from bootstrap.services import bootstrap_sweep
    from installations.models import Installation

    ws = _prepare(standin, make_workspace, size=600)
    env = {"BOOTSTRAP_LEASE_SECONDS": "5", "BOOTSTRAP_PAGE_SIZE": "5"}
    first = bootstrap_worker(concurrency=2, **env)
    assert ws.lifecycle(client, "INSTALLED").status_code == 200
    installation = Installation.objects.get(workspace_id=ws.workspace_id)

    # Wait until some fan-out steps are done, then kill the whole worker without warning.
    wait_for_run(installation, until=lambda run: BootstrapStep.objects.filter(
        run=run, endpoint="tasks", status=StepStatus.DONE).count() >= 5)
    bootstrap_worker.kill(first)
    stored_before = BootstrapStep.objects.filter(run__installation=installation, status=StepStatus.DONE).count()
    assert stored_before > 0

    killed = set(BootstrapStep.objects.filter(run__installation=installation, status=StepStatus.RUNNING)
                 .values_list("pk", flat=True))
    bootstrap_worker(concurrency=2, **env)
    import time

    time.sleep(5.5)  # the dead worker's leases run out
    # Drivers still queued may already have taken over; the sweeper covers the case where none is.
    bootstrap_sweep(stale_after_seconds=0)
    run = wait_for_run(installation, timeout=180)

    assert run.status == RunStatus.DONE, run.error
    # The steps the dead worker held were taken over (claimed again by the new worker).
    assert killed and all(attempts >= 2 for attempts in BootstrapStep.objects.filter(pk__in=killed)
                          .values_list("attempts", flat=True))
    served = Counter((r.path, r.query.get("page")) for r in standin.request_log.calls(workspace_id=ws.workspace_id)
                     if r.status == 200)
    repeated = [key for key, n in served.items() if n > 1]
    assert len(repeated) <= 2  # at most the pages in flight when the worker died
    data = standin.workspace(ws.workspace_id)
    counts = entity_counts(installation=installation)
    for entity_type in ("users", "clients", "projects", "tasks", "tags"):
        assert counts[entity_type] == len(data.entities[entity_type]), entity_type
