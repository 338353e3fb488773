"""Bootstrap runs in-process against the local Clockify stand-in."""

from __future__ import annotations

import math
from collections import Counter

import pytest
from django.db import IntegrityError, transaction

from bootstrap.models import BootstrapRun, BootstrapStep, CachedEntity, RunStatus, StepStatus
from bootstrap.selectors import bootstrap_progress, entity_counts, entity_get
from bootstrap.services import bootstrap_start, bootstrap_stop
from installations.selectors import effective_settings

CORE_TYPES = ("users", "clients", "projects", "tasks", "tags", "custom-fields", "user-groups")


def _settings_doc(**values):
    """Clockify's structured settings document, as its add-on settings endpoint answers."""
    return {"tabs": [{"id": "general", "name": "General", "groups": [
        {"id": "bootstrap", "title": "Bootstrap", "settings": [
            {"id": key, "name": key, "type": "TXT", "value": value, "accessLevel": "ADMINS"}
            for key, value in values.items()]}]}]}


def _ok_pages(standin, workspace_id):
    """(path, page) of every 200 the stand-in served this workspace."""
    return Counter((r.path, r.query.get("page")) for r in standin.request_log.calls(workspace_id=workspace_id)
                   if r.status == 200)


def test_full_run_fills_the_cache_from_every_page(standin_install, standin, drive_to_end, settings):
    settings.BOOTSTRAP_PAGE_SIZE = 7
    ws, installation = standin_install(size=300)
    standin.set_addon_settings(ws.workspace_id, _settings_doc(include_time_entries="true",
                                                              time_entry_days_back="365"))
    data = standin.workspace(ws.workspace_id)

    run = drive_to_end(bootstrap_start(installation=installation, trigger="api"))

    assert run.status == RunStatus.DONE and run.error == ""
    counts = entity_counts(installation=installation)
    for entity_type in CORE_TYPES + ("holidays", "time-off-policies"):
        assert counts[entity_type] == len(data.entities[entity_type]), entity_type
    assert counts["workspaces"] == 1
    # Time entries: only those inside the window, fetched per user.
    assert 0 < counts["time-entries"] <= len(data.entities["time-entries"])
    assert "expenses" not in counts  # heavy: off by default
    projects = run.steps.get(key="projects")
    assert projects.pages == math.ceil(len(data.entities["projects"]) / 7)
    assert projects.next_page == projects.pages + 1 and not projects.truncated
    assert run.steps.filter(endpoint="tasks").count() == len(data.entities["projects"])
    project_id = next(iter(data.entities["projects"]))
    assert entity_get(installation=installation, entity_type="projects", entity_id=project_id) == \
        data.entities["projects"][project_id]
    # Every page was fetched exactly once.
    assert max(_ok_pages(standin, ws.workspace_id).values()) == 1
    progress = bootstrap_progress(installation=installation)
    assert progress["run"]["status"] == "done" and progress["totals"]["percent"] == 100.0
    assert {e["endpoint"]: e["status"] for e in progress["endpoints"]}["tasks"] == "done"


def test_first_step_reads_the_addon_settings_from_clockify(standin_install, standin, drive_to_end):
    ws, installation = standin_install(size=100)
    standin.set_addon_settings(ws.workspace_id, _settings_doc(
        bootstrap_max_pages="3", include_heavy_endpoints=True, cache_ttl_days="14",
        unknown_setting="x", bootstrap_max_rps="999",  # out of range: clamped, as SETTINGS_UPDATED does
        time_entry_days_back="soon"))  # not a number: skipped

    run = drive_to_end(bootstrap_start(installation=installation))

    installation.refresh_from_db()
    assert installation.settings == {"bootstrap_max_pages": 3, "include_heavy_endpoints": True, "cache_ttl_days": 14,
                                     "bootstrap_max_rps": 50}
    assert effective_settings(installation=installation)["time_entry_days_back"] == 30
    assert run.options["max_pages"] == 3 and run.options["include_heavy_endpoints"] is True
    first = standin.request_log.calls(workspace_id=ws.workspace_id)[0]
    assert first.path == f"/api/addon/workspaces/{ws.workspace_id}/settings"
    assert entity_counts(installation=installation)["expenses"] == len(standin.workspace(ws.workspace_id).entities["expenses"])
    # Endpoints the stand-in does not serve are skipped, not failed.
    assert run.status == RunStatus.DONE
    assert run.steps.get(key="invoices").status == StepStatus.SKIPPED


def test_truncation_at_the_page_cap_is_recorded(standin_install, standin, drive_to_end, settings):
    settings.BOOTSTRAP_PAGE_SIZE = 5
    ws, installation = standin_install(size=300)
    standin.set_addon_settings(ws.workspace_id, _settings_doc(bootstrap_max_pages="2"))

    run = drive_to_end(bootstrap_start(installation=installation))

    projects = run.steps.get(key="projects")
    assert (projects.status, projects.pages, projects.items, projects.truncated) == (StepStatus.DONE, 2, 10, True)
    assert "page cap" in projects.last_error
    assert entity_counts(installation=installation)["projects"] == 10
    assert standin.request_log.count(path_contains="/projects", workspace_id=ws.workspace_id) >= 2
    assert not any(r.query.get("page") == "3" for r in standin.request_log.calls(path_contains="/projects?"))
    row = {e["endpoint"]: e for e in bootstrap_progress(installation=installation)["endpoints"]}["projects"]
    assert row["truncated"] is True
    assert run.status == RunStatus.DONE


def test_429s_are_waited_out_and_the_run_completes(standin_install, standin, drive_to_end):
    ws, installation = standin_install(size=60)
    standin.configure(rate_limit_per_second=8, retry_after=1)

    run = drive_to_end(bootstrap_start(installation=installation))

    assert run.status == RunStatus.DONE
    assert standin.request_log.count(workspace_id=ws.workspace_id, status=429) > 0
    assert not run.steps.filter(status=StepStatus.FAILED).exists()
    assert entity_counts(installation=installation)["projects"] == len(standin.workspace(ws.workspace_id).entities["projects"])


def test_5xx_are_retried_and_the_run_completes(standin_install, standin, drive_to_end, settings):
    settings.CLOCKIFY_MAX_RETRIES = 8
    ws, installation = standin_install(size=100)
    standin.configure(fault_5xx_rate=0.3, fault_seed=7)

    run = drive_to_end(bootstrap_start(installation=installation))

    assert run.status == RunStatus.DONE
    assert sum(standin.request_log.count(workspace_id=ws.workspace_id, status=s) for s in (500, 502, 503)) > 0
    assert entity_counts(installation=installation)["tasks"] == len(standin.workspace(ws.workspace_id).entities["tasks"])


def test_a_failed_run_resumes_where_it_stopped(standin_install, standin, drive_to_end, settings):
    """Without retries, injected 5xx fail some endpoints halfway; the re-trigger resumes the same
    run, re-fetching only what was not stored: every page is served successfully exactly once."""
    settings.CLOCKIFY_MAX_RETRIES = 0
    settings.BOOTSTRAP_PAGE_SIZE = 3
    ws, installation = standin_install(size=300)
    data = standin.workspace(ws.workspace_id)
    standin.configure(fault_5xx_rate=0.12, fault_seed=11)

    run = drive_to_end(bootstrap_start(installation=installation))

    assert run.status == RunStatus.FAILED and "failed" in run.error
    failed = list(run.steps.filter(status=StepStatus.FAILED))
    assert failed and any(step.pages > 0 for step in failed)  # some failed halfway through their pages
    assert all("HTTP 5" in step.last_error for step in failed)

    standin.configure(fault_5xx_rate=0.0)
    resumed = bootstrap_start(installation=installation, trigger="admin")
    assert resumed.pk == run.pk
    run = drive_to_end(resumed)

    assert run.status == RunStatus.DONE
    assert max(_ok_pages(standin, ws.workspace_id).values()) == 1
    counts = entity_counts(installation=installation)
    for entity_type in CORE_TYPES:
        assert counts[entity_type] == len(data.entities[entity_type]), entity_type


def test_a_crashed_worker_step_is_taken_over_from_its_next_page(standin_install, standin, drive_to_end, settings):
    """A worker killed mid-step leaves it running with a lease; once the lease expires another
    driver continues from the first page not stored."""
    settings.BOOTSTRAP_PAGE_SIZE = 4
    ws, installation = standin_install(size=300)
    run = drive_to_end(bootstrap_start(installation=installation))
    assert run.status == RunStatus.DONE
    # Rewind to the state a worker killed after committing page 2 of the users leaves behind.
    from django.utils import timezone

    users = run.steps.get(key="users")
    BootstrapStep.objects.filter(pk=users.pk).update(status=StepStatus.RUNNING, next_page=3,
                                                     lease_until=timezone.now() - timezone.timedelta(seconds=1))
    BootstrapRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, finished_at=None)
    standin.request_log.reset()

    run = drive_to_end(run)

    pages = [r.query["page"] for r in standin.request_log.calls(path_contains=f"{ws.workspace_id}/users")]
    assert pages[0] == "3" and "1" not in pages and "2" not in pages
    assert run.status == RunStatus.DONE


def test_workspaces_are_isolated(standin_install, standin, drive_to_end):
    ws_a, inst_a = standin_install(size=100, seed=1)
    ws_b, inst_b = standin_install(size=200, seed=2)
    # The other variant on workspace A: its own cache, and no endpoint outside its scopes.
    ws_c, inst_c = standin_install("api-studio", workspace_id=ws_a.workspace_id)

    for inst in (inst_a, inst_b, inst_c):
        assert drive_to_end(bootstrap_start(installation=inst)).status == RunStatus.DONE

    data_a, data_b = standin.workspace(ws_a.workspace_id), standin.workspace(ws_b.workspace_id)
    assert entity_counts(installation=inst_a)["projects"] == len(data_a.entities["projects"])
    assert entity_counts(installation=inst_b)["projects"] == len(data_b.entities["projects"])
    project_b = next(iter(data_b.entities["projects"]))
    assert entity_get(installation=inst_a, entity_type="projects", entity_id=project_b) is None
    assert entity_get(installation=inst_b, entity_type="projects", entity_id=project_b) is not None
    assert "holidays" not in entity_counts(installation=inst_c)  # api-studio has no TIME_OFF scope
    assert entity_counts(installation=inst_c)["projects"] == len(data_a.entities["projects"])
    assert not standin.request_log.count(status=403)  # no call ever carried another workspace's token


def test_one_active_run_per_installation(standin_install):
    ws, installation = standin_install(size=20)
    first = bootstrap_start(installation=installation)
    assert bootstrap_start(installation=installation).pk == first.pk
    assert bootstrap_start(installation=installation, fresh=True).pk == first.pk
    with pytest.raises(IntegrityError), transaction.atomic():
        BootstrapRun.objects.create(installation=installation, status=RunStatus.RUNNING)


def test_stop_cancels_and_the_driver_does_nothing_more(standin_install, standin):
    from bootstrap.services import bootstrap_drive

    ws, installation = standin_install(size=50)
    run = bootstrap_start(installation=installation)
    assert bootstrap_stop(installation=installation, reason="installation deleted") == 1
    assert bootstrap_drive(run_id=run.pk).outcome == "idle"
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED and standin.request_log.count() == 0


def test_unusable_installations_do_not_start(standin_install, client):
    ws, installation = standin_install(size=20)
    assert ws.lifecycle(client, "DELETED").status_code == 200
    installation.refresh_from_db()
    assert bootstrap_start(installation=installation) is None
    assert not BootstrapRun.objects.filter(installation=installation).exists()


def test_a_refused_token_fails_the_run_at_once(standin_install, standin, drive_to_end, clockify_keys):
    ws, installation = standin_install(size=50)
    from installations import crypto

    forged = ws.minter.sign(ws.minter.base_claims(), key=__import__(
        "clockify_standin.signing", fromlist=["generate_key_pair"]).generate_key_pair().private_pem)
    installation.token_encrypted = crypto.encrypt(forged)
    installation.save(update_fields=["token_encrypted"])

    run = drive_to_end(bootstrap_start(installation=installation))

    assert run.status == RunStatus.FAILED and "401" in run.error
    assert standin.request_log.count() == 1  # the settings step only
    assert not CachedEntity.objects.filter(installation=installation).exists()
