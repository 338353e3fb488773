"""The 9 API-only events through workspace webhooks (issue 20, item 2), against the stand-in.

Universal Webhook registers them with the installation token when the admin setting is on
(createWebhook, pointed at its own paths), verifies deliveries against the stored token hash,
deletes them when the setting goes off, on INACTIVE and on DELETED, re-creates them when gone,
and tells the dashboard how each one stands."""

from __future__ import annotations

import json

import pytest
import requests
from django.utils.html import escape

from addons.catalog import EVENTS
from addons.variants import VARIANTS
from installations.crypto import token_hash
from installations.models import Installation
from webhooks.models import WebhookEvent, WorkspaceWebhook
from webhooks.services.workspace_webhooks import workspace_webhooks_sync

pytestmark = pytest.mark.django_db(transaction=True)

API_ONLY = VARIANTS["universal-webhook"].workspace_webhook_events


@pytest.fixture(autouse=True)
def _fast_clockify_client(settings):
    settings.CLOCKIFY_MAX_RETRIES = 0
    settings.CLOCKIFY_BACKOFF_BASE_SECONDS = 0.01


@pytest.fixture
def uw(live_server, standin, clockify_side, settings):
    settings.PUBLIC_BASE_URL = live_server.url
    side = clockify_side("universal-webhook", platform=live_server, standin=standin)
    assert side.install().status_code == 200
    yield side
    side.http.session.close()  # no keep-alive connection may hold a server thread's database session


def _installation(side) -> Installation:
    return Installation.objects.get(variant=side.variant_slug, workspace_id=side.workspace_id)


def _sync(side) -> dict[str, str]:
    return workspace_webhooks_sync(installation_id=_installation(side).pk).states


def _at_clockify(standin, side) -> dict[str, dict]:
    hooks = standin.workspace(side.workspace_id).webhooks.values()
    return {h["webhookEvent"]: h for h in hooks if h["_type"] == "USER_CREATED"}


def _turn_on(side, standin) -> dict[str, dict]:
    assert side.update_settings({"enable_workspace_webhooks": True}).status_code == 200
    assert _sync(side) == {event: "registered" for event in API_ONLY}
    return _at_clockify(standin, side)


def _post(side, event: str, token: str) -> requests.Response:
    return requests.post(f"{side.addon_base_url}/webhooks/{EVENTS[event].slug}", timeout=10,
                         data=json.dumps(side.webhook_body(event)), headers={
                             "Content-Type": "application/json", "clockify-signature": token,
                             "clockify-webhook-event-type": event})


def test_off_by_default_nothing_is_registered(uw, standin):
    assert _sync(uw) == {}
    assert _at_clockify(standin, uw) == {} and not WorkspaceWebhook.objects.exists()


def test_setting_on_registers_each_event_and_every_delivery_is_logged(uw, standin, live_server):
    hooks = _turn_on(uw, standin)
    assert set(hooks) == set(API_ONLY)
    for event, hook in hooks.items():
        assert hook["url"] == f"{live_server.url}/universal-webhook/webhooks/{EVENTS[event].slug}"
        assert hook["triggerSourceType"] == "WORKSPACE_ID" and hook["triggerSource"] == [uw.workspace_id]
        row = WorkspaceWebhook.objects.get(event=event)
        assert row.clockify_id == hook["id"] and row.token_sha256 == token_hash(hook["authToken"])
        assert hook["authToken"] not in {row.token_sha256, row.reason}  # only its hash is kept

    for event in API_ONLY:
        assert standin.deliver_workspace_webhooks(uw.workspace_id, event) == [(hooks[event]["id"], 200)]
    logged = WebhookEvent.objects.filter(installation=_installation(uw))
    assert sorted(logged.values_list("event_type", flat=True)) == sorted(API_ONLY)
    assert set(logged.values_list("source", flat=True)) == {"clockify"}


def test_only_the_registered_token_of_that_event_is_accepted(uw, standin):
    hooks = _turn_on(uw, standin)
    addon_token = uw.webhook_tokens["NEW_TAG"]
    assert _post(uw, "TIME_ENTRY_SPLIT", addon_token).status_code == 401  # an add-on webhook's token
    assert _post(uw, "TIME_ENTRY_SPLIT", "made.up.token").status_code == 401
    other_events_token = hooks["EXPENSE_RESTORED"]["authToken"]
    assert _post(uw, "TIME_ENTRY_SPLIT", other_events_token).status_code == 401
    assert not WebhookEvent.objects.exists()
    assert _post(uw, "TIME_ENTRY_SPLIT", hooks["TIME_ENTRY_SPLIT"]["authToken"]).status_code == 200


def test_setting_off_deletes_them_in_clockify_and_their_tokens_stop_working(uw, standin):
    hooks = _turn_on(uw, standin)
    assert uw.update_settings({"enable_workspace_webhooks": False}).status_code == 200
    assert _sync(uw) == {}
    assert _at_clockify(standin, uw) == {} and not WorkspaceWebhook.objects.exists()
    assert _post(uw, "TIME_ENTRY_SPLIT", hooks["TIME_ENTRY_SPLIT"]["authToken"]).status_code == 401
    assert standin.request_log.count(method="DELETE", path_contains="/webhooks/") == len(API_ONLY)


def test_inactive_deletes_them_and_active_creates_them_again(uw, standin):
    first = _turn_on(uw, standin)
    assert uw.set_status("INACTIVE").status_code == 200
    _sync(uw)
    assert _at_clockify(standin, uw) == {}
    assert uw.set_status("ACTIVE").status_code == 200
    assert _sync(uw) == {event: "registered" for event in API_ONLY}
    again = _at_clockify(standin, uw)
    assert set(again) == set(API_ONLY) and {h["id"] for h in again.values()}.isdisjoint(h["id"] for h in first.values())


def test_deleted_removes_them_before_the_token_is_wiped(uw, standin):
    _turn_on(uw, standin)
    assert uw.delete().status_code == 200
    assert _at_clockify(standin, uw) == {}  # within the DELETED request: no worker needed
    installation = _installation(uw)
    assert installation.is_deleted and installation.token_encrypted == ""
    assert not WorkspaceWebhook.objects.exists()


def test_a_webhook_deleted_in_clockify_is_created_again(uw, standin):
    hooks = _turn_on(uw, standin)
    gone = hooks["COST_RATE_UPDATED"]
    del standin.workspace(uw.workspace_id).webhooks[gone["id"]]  # a workspace admin deleted it
    assert _sync(uw)["COST_RATE_UPDATED"] == "registered"
    replacement = _at_clockify(standin, uw)["COST_RATE_UPDATED"]
    assert replacement["id"] != gone["id"] and len(_at_clockify(standin, uw)) == len(API_ONLY)
    assert _post(uw, "COST_RATE_UPDATED", gone["authToken"]).status_code == 401
    assert _post(uw, "COST_RATE_UPDATED", replacement["authToken"]).status_code == 200


def test_extra_copies_in_clockify_are_removed_and_ours_are_adopted_after_a_lost_answer(uw, standin):
    _turn_on(uw, standin)
    WorkspaceWebhook.objects.all().delete()  # as if createWebhook's answers had been lost
    assert _sync(uw) == {event: "registered" for event in API_ONLY}
    hooks = _at_clockify(standin, uw)
    assert len(hooks) == len(API_ONLY)
    assert _post(uw, "BILLABLE_RATE_UPDATED", hooks["BILLABLE_RATE_UPDATED"]["authToken"]).status_code == 200


def test_the_plan_limit_and_failures_are_kept_with_clockifys_reason(uw, standin, client):
    standin.set_webhook_limit(uw.workspace_id, 4)
    assert uw.update_settings({"enable_workspace_webhooks": True}).status_code == 200
    states = _sync(uw)
    assert sorted(states.values()).count("registered") == 4 and sorted(states.values()).count("plan_limit") == 5
    refused = WorkspaceWebhook.objects.filter(state="plan_limit").first()
    assert "limit" in refused.reason and refused.token_sha256 == "" and refused.clockify_id == ""

    page = client.get(f"/universal-webhook/ui/dashboard?auth_token={uw.user_token()}")
    html = page.content.decode()
    assert page.status_code == 200 and "API-only events" in html
    assert html.count('data-workspace-webhook-state="registered"') == 4
    assert html.count('data-workspace-webhook-state="plan_limit"') == 5 and escape(refused.reason) in html

    standin.set_webhook_limit(uw.workspace_id, 300)
    standin.configure(fault_5xx_rate=1.0)
    WorkspaceWebhook.objects.filter(state="registered").update(clockify_id="")  # force a create
    assert set(_sync(uw).values()) == {"failed"}
    assert all(r.reason.startswith("HTTP 5") for r in WorkspaceWebhook.objects.all())
    standin.configure(fault_5xx_rate=0.0)
    assert set(_sync(uw).values()) == {"registered"}  # the next sync converges


def test_api_studio_has_no_api_only_events(live_server, standin, clockify_side, settings, client):
    settings.PUBLIC_BASE_URL = live_server.url
    side = clockify_side("api-studio", platform=live_server, standin=standin)
    assert side.install().status_code == 200
    assert _sync(side) == {} and _at_clockify(standin, side) == {}
    assert _post(side, "TIME_ENTRY_SPLIT", side.webhook_tokens["NEW_TAG"]).status_code == 403
    page = client.get(f"/api-studio/ui/dashboard?auth_token={side.user_token()}")
    assert page.status_code == 200 and "API-only events" not in page.content.decode()


@pytest.mark.parametrize("change", ["settings_on", "inactive", "active"])
def test_lifecycle_changes_ask_a_worker_to_converge(uw, monkeypatch, change):
    """Settings, status and install changes enqueue the sync (after commit) when there is something
    to do; a worker runs it (test_workspace_webhooks_e2e)."""
    from webhooks import receivers

    sent = []
    monkeypatch.setattr(receivers, "enqueue_on_commit", lambda task, *args: sent.append((task.name, args)))
    installation = _installation(uw)
    if change == "settings_on":
        assert uw.update_settings({"enable_workspace_webhooks": True}).status_code == 200
    else:
        WorkspaceWebhook.objects.create(installation=installation, event="TIME_ENTRY_SPLIT", state="registered")
        if change == "active":
            assert uw.set_status("INACTIVE").status_code == 200
            sent.clear()
        assert uw.set_status(change.upper()).status_code == 200
    assert sent == [("webhooks.sync_workspace_webhooks", (installation.pk,))]


def test_nothing_is_enqueued_when_nothing_is_wanted_or_left(uw, monkeypatch):
    from webhooks import receivers

    sent = []
    monkeypatch.setattr(receivers, "enqueue_on_commit", lambda task, *args: sent.append(task.name))
    assert uw.update_settings({"enable_flows": False}).status_code == 200
    assert uw.set_status("INACTIVE").status_code == 200
    assert sent == []


def test_a_webhook_clockify_stopped_delivering_is_replaced(uw, standin):
    hooks = _turn_on(uw, standin)
    stale = hooks["EXPENSE_RESTORED"]
    standin.workspace(uw.workspace_id).webhooks[stale["id"]]["deliveryEnabled"] = False  # after failed deliveries
    assert _sync(uw)["EXPENSE_RESTORED"] == "registered"
    fresh = _at_clockify(standin, uw)["EXPENSE_RESTORED"]
    assert fresh["id"] != stale["id"] and fresh["deliveryEnabled"] is True
    assert stale["id"] not in standin.workspace(uw.workspace_id).webhooks
