"""Bootstrap reacts to the installation lifecycle and the admin hook; cache TTL purge."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from bootstrap.models import BootstrapRun, CachedEntity, RunStatus
from bootstrap.services import cached_entities_purge, cached_entities_upsert
from installations.hooks import request_bootstrap


def test_install_starts_a_run_and_delete_cancels_it(standin_install, django_capture_on_commit_callbacks, client):
    with django_capture_on_commit_callbacks(execute=True):
        ws, installation = standin_install(size=20)
    run = BootstrapRun.objects.get(installation=installation)
    assert (run.status, run.trigger) == (RunStatus.PENDING, "install")

    with django_capture_on_commit_callbacks(execute=True):
        assert ws.lifecycle(client, "DELETED").status_code == 200
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED and run.error == "installation deleted"


def test_install_with_bootstrap_disabled_starts_nothing(standin_install, django_capture_on_commit_callbacks,
                                                        settings):
    settings.ADDON_SETTING_DEFAULTS = {"enable_bootstrap": "false"}
    with django_capture_on_commit_callbacks(execute=True):
        ws, installation = standin_install(size=20)
    assert not BootstrapRun.objects.filter(installation=installation).exists()
    # Staff can still ask for one.
    assert request_bootstrap(installation=installation) is True
    assert BootstrapRun.objects.get(installation=installation).trigger == "admin"


def test_purge_drops_entities_older_than_the_installation_ttl(standin_install, client, settings):
    ws, installation = standin_install(size=20)
    other_ws, other = standin_install("api-studio", size=20)
    installation.settings = {"cache_ttl_days": 30}
    installation.save(update_fields=["settings"])
    now = timezone.now()
    for inst in (installation, other):
        cached_entities_upsert(installation=inst, entity_type="tags", items=[{"id": "fresh"}], fetched_at=now)
        cached_entities_upsert(installation=inst, entity_type="tags", items=[{"id": "week-old"}],
                               fetched_at=now - timedelta(days=8))
        cached_entities_upsert(installation=inst, entity_type="tags", items=[{"id": "ancient"}],
                               fetched_at=now - timedelta(days=40))

    assert cached_entities_purge(now=now, dry_run=True) == 3
    assert cached_entities_purge(now=now) == 3

    left = set(CachedEntity.objects.values_list("installation__variant", "entity_id"))
    assert left == {("universal-webhook", "fresh"), ("universal-webhook", "week-old"), ("api-studio", "fresh")}


def test_upsert_skips_items_without_ids_and_keeps_the_last_duplicate(standin_install):
    ws, installation = standin_install(size=20)
    stored = cached_entities_upsert(installation=installation, entity_type="tags",
                                    items=[{"id": "a", "v": 1}, {"name": "no id"}, "junk", {"id": "a", "v": 2}])
    assert stored == 1
    assert CachedEntity.objects.get(installation=installation, entity_id="a").data == {"id": "a", "v": 2}


def test_sweeper_nudges_only_runs_nobody_works_on(standin_install):
    from bootstrap.models import BootstrapStep, StepStatus
    from bootstrap.services import bootstrap_start, bootstrap_sweep

    ws, installation = standin_install(size=20)
    run = bootstrap_start(installation=installation)
    assert bootstrap_sweep(stale_after_seconds=0) == 1  # pending, nobody on it (e.g. the broker was down)
    BootstrapStep.objects.filter(run=run).update(status=StepStatus.RUNNING,
                                                 lease_until=timezone.now() + timedelta(seconds=60))
    assert bootstrap_sweep(stale_after_seconds=0) == 0  # a live worker holds a step
    BootstrapStep.objects.filter(run=run).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert bootstrap_sweep(stale_after_seconds=0) == 1  # that worker died
    assert bootstrap_sweep(stale_after_seconds=3600) == 0  # too recent to call stalled
