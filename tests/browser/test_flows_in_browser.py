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
