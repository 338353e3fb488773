"""Flows through the UI in headless Chromium: an admin builds and saves a flow, Clockify (the
stand-in) fires a webhook, and the event and the run appear on the pages without a reload while a
real Celery worker processes them. A non-admin cannot manage flows."""

from __future__ import annotations

import os
import time

import pytest

from flows.models import Flow, FlowRun
from tests.browser.conftest import needs_chromium

pytestmark = [
    pytest.mark.browser,
    needs_chromium,
    pytest.mark.django_db(transaction=True),
]

needs_services = pytest.mark.skipif(
    not os.environ.get("REDIS_URL") or "postgres" not in os.environ.get("DATABASE_URL", ""),
    reason="needs PostgreSQL and Redis (a Celery worker subprocess shares them)",
)


def _build_tag_flow(frame) -> None:
    """Fill in the builder like a user: trigger, one condition, one Clockify action."""
    frame.fill("#flow-name", "Tag bug work")
    frame.select_option("#trigger-event", ["NEW_TIME_ENTRY"])
    frame.click("#add-condition")
    frame.fill("#conditions .cond-path", "$.description")
    frame.select_option("#conditions .cond-op", "contains")
    frame.fill("#conditions .cond-value", "bug")
    frame.click("#add-clockify-action")
    frame.fill(".action-box .op-search", "createNewTag")
    body = frame.wait_for_selector(".action-box .op-body")
    body.fill('{"name": "bug"}')


@needs_services
def test_admin_builds_a_flow_and_watches_the_event_and_run_appear(framed, clockify_side, live_server, standin,
                                                                   tmp_path, shoot):
    from flows.tests import worker  # the flows app's worker-subprocess helper

    side = clockify_side("api-studio", platform=live_server, standin=standin)
    assert side.install().status_code == 200
    token = side.user_token("OWNER")

    frame = framed.open("/api-studio/ui/flows/new", token)
    _build_tag_flow(frame)
    shoot("flow-builder-filled")
    frame.click("#save-flow")
    frame.wait_for_url("**/ui/flows/flw_*")
    flow = Flow.objects.get(installation__workspace_id=side.workspace_id)
    assert flow.name == "Tag bug work" and flow.enabled
    assert flow.trigger == {"events": ["NEW_TIME_ENTRY"]}
    assert flow.conditions == {"mode": "all", "rules": [{"path": "$.description", "op": "contains", "value": "bug"}]}
    assert flow.actions[0]["operation"] == "createNewTag" and flow.actions[0]["body"] == {"name": "bug"}

    frame = framed.frame()
    frame.wait_for_selector("#run-table", state="attached")
    assert frame.locator("#run-rows tr").count() == 0

    log = tmp_path / "worker.log"
    proc = worker.start_worker(log, queues="webhooks,flows", concurrency=2)
    try:
        entry = side.webhook_body("NEW_TIME_ENTRY")
        entry["description"] = "Squash the <b>login</b> bug"
        assert side.send_webhook("NEW_TIME_ENTRY", entry).status_code == 200
        # The run appears in the open page's history (polling), and finishes.
        frame.wait_for_selector("#run-rows tr .pill.succeeded, #run-rows tr .pill.failed", timeout=60000)
        shoot("flow-run-history")
        run = FlowRun.objects.get(flow=flow)
        assert run.status == "succeeded", (run.error, log.read_text()[-2000:])
        assert frame.locator("#run-rows tr .pill.succeeded").count() == 1

        # The webhook log, opened on its first page, shows a second delivery without a reload.
        frame = framed.open("/api-studio/ui/webhooks", token)
        frame.wait_for_selector("#event-rows tr[data-id]")
        before = frame.locator("#event-rows tr[data-id]").count()
        other = side.webhook_body("NEW_TIME_ENTRY")
        other["description"] = "Team meeting"
        assert side.send_webhook("NEW_TIME_ENTRY", other).status_code == 200
        # (the pages' CSP forbids eval, so wait_for_function cannot be used: poll the locator)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and frame.locator("#event-rows tr[data-id]").count() <= before:
            frame.wait_for_timeout(200)
        assert frame.locator("#event-rows tr[data-id]").count() == before + 1
        assert frame.locator("#event-rows tr.new").count() == 1  # highlighted as new
        shoot("webhook-log-live")
        # Detail: pretty JSON and replay.
        frame.click("#event-rows tr:last-child a")
        frame.wait_for_selector("#payload")
        assert "Squash the <b>login</b> bug" in frame.inner_text("#payload")  # shown as text, not markup
        frame.click("#replay")
        frame.wait_for_selector("#toast:not([hidden])")
        shoot("webhook-detail")
    finally:
        worker.stop(proc)

    # Run detail: per-step request and response, reached by clicking through.
    frame = framed.open(f"/api-studio/ui/flows/{flow.public_id}", token)
    frame.wait_for_selector("#run-rows tr:has(.pill.skipped)")  # the "Team meeting" entry did not match
    frame.click("#run-rows tr:has(.pill.succeeded) a")
    frame.wait_for_selector(".steps .step.succeeded")
    assert "createNewTag" in frame.content() or "/tags" in frame.content()
    assert [t for t in standin.workspace(side.workspace_id).entities["tags"].values() if t["name"] == "bug"]
    shoot("flow-run-detail")


def test_test_run_panel_and_editing_a_saved_flow(framed, installed, shoot):
    ws = installed("universal-webhook")
    token = ws.minter.user_token(role="ADMIN")
    frame = framed.open("/universal-webhook/ui/flows/new", token)
    _build_tag_flow(frame)
    frame.fill("#test-event", '{"id": "te1", "description": "fix the bug"}')
    frame.click("#run-test")
    frame.wait_for_selector("#test-verdict")
    assert frame.text_content("#test-verdict") == "would run"
    assert "/tags" in frame.inner_text("#test-result")  # the request step 0 would send
    frame.fill("#test-event", '{"id": "te2", "description": "meeting"}')
    frame.click("#run-test")
    frame.locator("#test-verdict", has_text="would not run").wait_for()
    shoot("flow-test-run")
    assert not Flow.objects.exists()  # a test run stores nothing

    frame.click("#save-flow")
    frame.wait_for_url("**/ui/flows/flw_*")
    frame = framed.frame()
    frame.wait_for_selector(".action-box .op-body")  # the saved action's form is rebuilt
    assert frame.input_value("#flow-name") == "Tag bug work"
    frame.fill("#flow-name", "Tag bugs")
    frame.click("#save-flow")
    frame.locator("#save-status", has_text="Saved").wait_for()
    flow = Flow.objects.get()
    assert flow.name == "Tag bugs" and flow.version == 2 and flow.actions[0]["body"] == {"name": "bug"}


def test_validation_errors_name_the_field(framed, installed):
    ws = installed("universal-webhook")
    frame = framed.open("/universal-webhook/ui/flows/new", ws.minter.user_token())
    frame.fill("#flow-name", "No actions")
    frame.select_option("#trigger-event", ["NEW_TAG"])
    frame.click("#save-flow")
    frame.wait_for_selector("#form-errors:not([hidden])")
    assert "actions" in frame.inner_text("#form-errors")
    assert not Flow.objects.exists()


def test_non_admin_cannot_manage_flows(framed, installed, shoot):
    ws = installed("universal-webhook")
    admin_token = ws.minter.user_token(role="OWNER")
    frame = framed.open("/universal-webhook/ui/flows/new", admin_token)
    _build_tag_flow(frame)
    frame.click("#save-flow")
    frame.wait_for_url("**/ui/flows/flw_*")
    flow = Flow.objects.get(installation__workspace_id=ws.workspace_id)

    user_token = ws.minter.user_token(role="TEAM_MANAGER", user_id="regular-user")
    frame = framed.open("/universal-webhook/ui/flows", user_token)
    assert frame.locator("#new-flow").count() == 0
    assert frame.locator("#read-only-note").is_visible()
    assert frame.locator(f".flow-toggle[data-flow='{flow.public_id}']").is_disabled()

    frame = framed.open(f"/universal-webhook/ui/flows/{flow.public_id}", user_token)
    assert frame.locator("#save-flow").is_disabled()
    assert frame.locator("#delete-flow").count() == 0
    assert frame.locator("#run-table").count() == 0  # run history (event data) is for admins
    shoot("flow-read-only")

    # Even a hand-made request from the page is refused by the API, and nothing changes.
    status = frame.evaluate("""async (id) => {
        const r = await fetch(`/universal-webhook/api/v1/flows/${id}/disable`, {method: "POST",
            headers: {"Authorization": "Bearer " + window.UIToken.get()}});
        return r.status; }""", flow.public_id)
    assert status == 403
    flow.refresh_from_db()
    assert flow.enabled

    # The admin's toggle works from the list.
    frame = framed.open("/universal-webhook/ui/flows", admin_token)
    frame.click(f"label.switch:has(.flow-toggle[data-flow='{flow.public_id}'])")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and Flow.objects.get(pk=flow.pk).enabled:
        frame.wait_for_timeout(100)
    assert not Flow.objects.get(pk=flow.pk).enabled


@needs_services
def test_dashboard_shows_bootstrap_progress_live(framed, clockify_side, live_server, standin, tmp_path, shoot):
    """INSTALLED starts a bootstrap; the open dashboard follows it to done and shows the counts."""
    from flows.tests import worker

    side = clockify_side("universal-webhook", platform=live_server, standin=standin, seed_size=40)
    assert side.install().status_code == 200
    frame = framed.open("/universal-webhook/ui/dashboard", side.user_token("OWNER"))
    frame.wait_for_selector("#bootstrap-progress")
    assert frame.text_content("#bootstrap-status") in ("pending", "running")
    log = tmp_path / "worker.log"
    proc = worker.start_worker(log, queues="bootstrap", concurrency=2)
    try:
        frame.wait_for_selector("#bootstrap-status.done", timeout=90000)
    finally:
        worker.stop(proc)
    assert frame.get_attribute("#bootstrap-progress", "value") == "100"
    from bootstrap.models import CachedEntity

    # The counts the last poll brought are on the page without a reload.
    cached = CachedEntity.objects.filter(installation__workspace_id=side.workspace_id).count()
    shown = sum(int(v) for v in frame.locator("#entity-counts .stat-value").all_inner_texts())
    assert shown == cached, frame.inner_text("#bootstrap-card")
    assert not frame.locator("#bootstrap-run").is_disabled()
    shoot("dashboard-after-bootstrap")


def test_secrets_are_set_in_the_builder_and_never_shown_again(framed, installed, client, shoot):
    from flows.models import FlowSecret
    from installations import crypto

    ws = installed("universal-webhook")
    settings_body = {"workspaceId": ws.workspace_id, "addonId": ws.addon_id,
                     "settings": [{"id": "enable_generic_http_actions", "name": "HTTP", "value": True}]}
    assert ws.lifecycle(client, "SETTINGS_UPDATED", settings_body).status_code == 200
    value, replacement = "tok_live_" + "b7" * 16, "tok_next_" + "c8" * 16
    token = ws.minter.user_token(role="WORKSPACE_ADMIN")
    frame = framed.open("/universal-webhook/ui/flows/new", token)
    frame.fill("#flow-name", "Notify partner")
    frame.select_option("#trigger-event", ["NEW_TAG"])
    frame.click("#add-http-action")
    frame.fill(".action-box .http-url", "https://partner.example.com/hooks/in")
    frame.fill(".action-box .http-headers", '{"Authorization": "Bearer {{secrets.API_TOKEN}}"}')
    assert frame.locator("#secrets-card").is_visible()
    frame.click("#add-secret")
    frame.fill("#secrets .secret-name", "API_TOKEN")
    frame.fill("#secrets .secret-value", value)
    frame.click("#save-flow")
    frame.wait_for_url("**/ui/flows/flw_*")
    secret = FlowSecret.objects.get(name="API_TOKEN")
    assert crypto.decrypt(secret.value_encrypted) == value

    frame = framed.frame()
    frame.wait_for_selector("#secrets .secret-row .secret-set")  # listed as set, with an empty field
    assert frame.input_value("#secrets .secret-name") == "API_TOKEN"
    assert frame.input_value("#secrets .secret-value") == "" and value not in frame.content()
    frame.locator("#secrets-card").scroll_into_view_if_needed()
    shoot("flow-secret-set")
    frame.fill("#secrets .secret-value", replacement)
    frame.click("#save-flow")
    frame.locator("#save-status", has_text="Saved").wait_for()
    assert crypto.decrypt(FlowSecret.objects.get(name="API_TOKEN").value_encrypted) == replacement
    assert frame.input_value("#secrets .secret-value") == ""  # the page forgets what was typed

    reader = framed.open(f"/universal-webhook/ui/flows/{secret.flow.public_id}",
                         ws.minter.user_token(role="USER", user_id="member-1"))
    reader.wait_for_selector("#secrets .secret-row .secret-set")
    assert reader.locator("#secrets .secret-value").is_disabled()
    assert reader.locator("#add-secret").count() == 0
    assert value not in reader.content() and replacement not in reader.content()
