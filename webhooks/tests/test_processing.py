"""Processing through the extension point, the sweeper, replay and retention (services + admin)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone

from installations.models import Installation
from webhooks import services
from webhooks.models import WebhookEvent
from webhooks.tests.conftest import post_clockify, sample_body

pytestmark = pytest.mark.django_db


def _accept(client, ws, event="NEW_TAG", **overrides) -> WebhookEvent:
    assert post_clockify(client, ws, event, sample_body(event, **overrides)).status_code == 200
    return WebhookEvent.objects.latest("pk")


def test_processors_run_once_and_event_is_marked(client, installed, only_processors):
    seen = []
    only_processors(first=lambda e: seen.append(("first", e.pk, e.installation.workspace_id)),
                    second=lambda e: seen.append(("second", e.pk, e.payload["id"])))
    ws = installed()
    event = _accept(client, ws)
    assert services.webhook_event_process(event_id=event.pk) == "processed"
    assert seen == [("first", event.pk, ws.workspace_id), ("second", event.pk, event.payload["id"])]
    event.refresh_from_db()
    assert event.status == "processed" and event.attempts == 1 and event.processed_at and event.error == ""
    # Redelivery (or a swept copy) does nothing.
    assert services.webhook_event_process(event_id=event.pk) == "not_pending"
    assert len(seen) == 2


def test_failing_processor_marks_failed_others_still_run_and_keep_their_writes(client, installed,
                                                                               only_processors):
    ws = installed()

    def broken(event):
        Installation.objects.filter(pk=event.installation_id).update(as_user="written-by-broken")
        raise RuntimeError("cache exploded")

    def good(event):
        Installation.objects.filter(pk=event.installation_id).update(owner_user_id="written-by-good")

    only_processors(broken=broken, good=good)
    event = _accept(client, ws)
    assert services.webhook_event_process(event_id=event.pk) == "failed"
    event.refresh_from_db()
    assert event.status == "failed" and "broken: RuntimeError: cache exploded" in event.error
    installation = Installation.objects.get(pk=event.installation_id)
    assert installation.owner_user_id == "written-by-good"  # kept
    assert installation.as_user != "written-by-broken"  # the failed processor's savepoint rolled back


def test_event_of_installation_deactivated_before_processing_is_skipped(client, installed, only_processors):
    calls = []
    only_processors(p=calls.append)
    ws = installed()
    event = _accept(client, ws)
    Installation.objects.filter(pk=event.installation_id).update(status="INACTIVE")
    assert services.webhook_event_process(event_id=event.pk) == "skipped"
    assert calls == []


def test_sweeper_reenqueues_only_old_received_events_once_per_period(client, installed, settings,
                                                                     django_capture_on_commit_callbacks):
    settings.WEBHOOK_SWEEP_AFTER_SECONDS = 60
    ws = installed()
    old, fresh, done = _accept(client, ws), _accept(client, ws), _accept(client, ws)
    WebhookEvent.objects.filter(pk__in=[old.pk, done.pk]).update(received_at=timezone.now() - timedelta(minutes=5))
    WebhookEvent.objects.filter(pk=done.pk).update(status="processed")
    with django_capture_on_commit_callbacks() as callbacks:
        assert services.webhook_events_sweep() == 1
    assert len(callbacks) == 1
    old.refresh_from_db()
    assert old.swept_at is not None
    # Swept moments ago: not again until the period has passed.
    assert services.webhook_events_sweep() == 0
    fresh.refresh_from_db()
    assert fresh.swept_at is None
    # Two minutes on: the old one is due again and the fresh one is now old enough.
    assert services.webhook_events_sweep(now=timezone.now() + timedelta(minutes=2)) == 2


# --- replay -------------------------------------------------------------------------------------------


def test_replay_is_a_new_event_pointing_at_the_original(client, installed, only_processors):
    calls = []
    only_processors(p=lambda e: calls.append(e.pk))
    ws = installed()
    original = _accept(client, ws)
    services.webhook_event_process(event_id=original.pk)
    replay = services.webhook_event_replay(event=original)
    assert replay.pk != original.pk and replay.replay_of_id == original.pk and replay.status == "received"
    assert replay.payload == original.payload and replay.dedupe_key is None
    services.webhook_event_process(event_id=replay.pk)
    assert calls == [original.pk, replay.pk]
    # A replay of a replay still points at the original; the original's outcome is untouched.
    again = services.webhook_event_replay(event=replay)
    assert again.replay_of_id == original.pk
    original.refresh_from_db()
    assert original.status == "processed" and original.replays.count() == 2


def test_replay_of_a_filtered_set_is_scoped_to_the_installation(client, installed):
    ws, other = installed(), installed()
    failed = _accept(client, ws)
    _accept(client, ws, "NEW_CLIENT")
    foreign = _accept(client, other)
    WebhookEvent.objects.filter(pk__in=[failed.pk, foreign.pk]).update(status="failed")
    installation = Installation.objects.get(workspace_id=ws.workspace_id)
    replays = services.webhook_events_replay(installation=installation, status="failed")
    assert [r.replay_of_id for r in replays] == [failed.pk]


def test_replay_refused_for_inactive_installation(client, installed):
    ws = installed()
    event = _accept(client, ws)
    Installation.objects.filter(pk=event.installation_id).update(status="INACTIVE")
    with pytest.raises(services.ReplayError):
        services.webhook_event_replay(event=event)
    assert WebhookEvent.objects.count() == 1


# --- retention ----------------------------------------------------------------------------------------------


def test_purge_uses_each_installations_retention_in_batches(client, installed):
    short, default = installed(), installed()
    short.lifecycle(client, "SETTINGS_UPDATED", {"workspaceId": short.workspace_id, "addonId": short.addon_id,
                                                 "settings": [{"id": "webhook_log_retention_days", "value": 10}]})
    events = {name: _accept(client, ws) for name, ws in (("short_old", short), ("short_new", short),
                                                         ("default_old", default))}
    now = timezone.now()
    WebhookEvent.objects.filter(pk=events["short_old"].pk).update(received_at=now - timedelta(days=11))
    WebhookEvent.objects.filter(pk=events["short_new"].pk).update(received_at=now - timedelta(days=9))
    WebhookEvent.objects.filter(pk=events["default_old"].pk).update(received_at=now - timedelta(days=11))
    assert services.webhook_events_purge(batch_size=1) == 1
    assert set(WebhookEvent.objects.values_list("pk", flat=True)) == {events["short_new"].pk,
                                                                      events["default_old"].pk}
    WebhookEvent.objects.filter(pk=events["default_old"].pk).update(received_at=now - timedelta(days=91))
    call_command("purge_webhook_events", "--batch-size", "5")
    assert list(WebhookEvent.objects.values_list("pk", flat=True)) == [events["short_new"].pk]


def test_purge_stops_when_its_time_budget_is_spent(client, installed):
    ws = installed()
    event = _accept(client, ws)
    WebhookEvent.objects.filter(pk=event.pk).update(received_at=timezone.now() - timedelta(days=400))
    assert services.webhook_events_purge(time_budget_seconds=0) == 0
    assert WebhookEvent.objects.count() == 1
    assert services.webhook_events_purge() == 1


# --- admin ----------------------------------------------------------------------------------------------------


@pytest.fixture
def staff_client(client):
    user = User.objects.create_superuser("support", "support@example.com", "pw-not-used-elsewhere")
    client.force_login(user)
    return client


def test_admin_log_search_filter_payload_and_replay_action(client, installed, staff_client):
    ws = installed()
    event = _accept(client, ws, "NEW_TAG", id="tag-xyz")
    listing = staff_client.get("/admin/webhooks/webhookevent/", {"q": "tag-xyz", "status__exact": "received"})
    assert listing.status_code == 200 and b"tag-xyz" in listing.content
    detail = staff_client.get(f"/admin/webhooks/webhookevent/{event.pk}/change/")
    assert detail.status_code == 200 and b"&quot;id&quot;: &quot;tag-xyz&quot;" in detail.content
    assert ws.minter.webhook_token().encode() not in detail.content
    response = staff_client.post("/admin/webhooks/webhookevent/",
                                 {"action": "replay_events", "_selected_action": [event.pk]})
    assert response.status_code == 302
    assert WebhookEvent.objects.filter(replay_of=event).count() == 1


def test_a_batch_processes_each_event_alone_and_goes_on_after_one_raises(client, installed, only_processors,
                                                                         monkeypatch):
    from webhooks.services import processing

    seen = []
    only_processors(record=lambda e: seen.append(e.pk))
    ws = installed()
    events = [_accept(client, ws, id=f"tag-{n}") for n in range(3)]
    real_lock = processing._lock_received

    def lock(event_id):
        if event_id == events[1].pk:
            raise RuntimeError("the database went away")
        return real_lock(event_id)

    monkeypatch.setattr(processing, "_lock_received", lock)
    statuses = services.webhook_events_process(event_ids=[e.pk for e in events])
    assert statuses == ["processed", "error", "processed"] and seen == [events[0].pk, events[2].pk]
    assert [WebhookEvent.objects.get(pk=e.pk).status for e in events] == ["processed", "received", "processed"]
