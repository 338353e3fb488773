"""The explorer (search, operation form, execute against the Clockify stand-in, save as flow action)
and the custom sources page (secret shown once) in headless Chromium."""

from __future__ import annotations

import pytest

from flows.models import Flow
from tests.browser.conftest import needs_chromium
from webhooks.models import CustomSource

pytestmark = [pytest.mark.browser, needs_chromium, pytest.mark.django_db(transaction=True)]


def test_explorer_search_execute_and_save_as_flow_action(framed, clockify_side, live_server, standin, shoot):
    side = clockify_side("universal-webhook", platform=live_server, standin=standin)
    assert side.install().status_code == 200
    frame = framed.open("/universal-webhook/ui/explorer", side.user_token("OWNER"))
    frame.fill("#op-search", "tags")
    assert frame.locator("button.op:visible").count() >= 1
    frame.locator("button.op[data-op='getTags']").click()
    frame.wait_for_selector("#op-detail:not([hidden])")
    assert frame.input_value("#param-path-workspaceId") == side.workspace_id
    frame.click("#op-execute")
    frame.wait_for_selector("#response-card:not([hidden])")
    assert frame.inner_text("#resp-status") == "200"
    assert frame.inner_text("#resp-body").lstrip().startswith("[")
    shoot("explorer-executed")

    frame.fill("#save-name", "List tags on new entries")
    frame.select_option("#save-event", "NEW_TIME_ENTRY")
    frame.click("#save-action")
    frame.wait_for_selector("#save-result a")
    flow = Flow.objects.get(installation__workspace_id=side.workspace_id)
    assert flow.name == "List tags on new entries" and flow.actions[0]["operation"] == "getTags"


def test_write_operations_need_an_admin(framed, clockify_side, live_server, standin):
    side = clockify_side("universal-webhook", platform=live_server, standin=standin)
    assert side.install().status_code == 200
    frame = framed.open("/universal-webhook/ui/explorer", side.user_token("USER"))
    frame.fill("#op-search", "createNewTag")
    frame.locator("button.op[data-op='createNewTag']").click()
    frame.wait_for_selector("#op-detail:not([hidden])")
    assert frame.locator("#op-execute").is_disabled()
    assert "owner or admin" in frame.inner_text("#op-write-note")
    assert frame.locator("#save-card").is_hidden()


def test_custom_source_secret_is_shown_once(framed, installed, shoot):
    ws = installed("universal-webhook")
    token = ws.minter.user_token()
    frame = framed.open("/universal-webhook/ui/sources", token)
    frame.fill("#source-name", "Billing system")
    frame.click("#source-create")
    frame.wait_for_selector("#secret-box:not([hidden])")
    secret = frame.inner_text("#secret-value")
    source = CustomSource.objects.get(name="Billing system")
    assert secret.startswith("whsec_") or len(secret) > 20
    assert source.public_id in frame.inner_text("#secret-url")
    frame.wait_for_selector(f"#source-rows tr[data-source='{source.public_id}']")  # the table refreshed itself
    shoot("sources-secret")
    frame = framed.open("/universal-webhook/ui/sources", token)
    assert "Billing system" in frame.inner_text("#source-table")
    assert secret not in frame.content()
    # Rotate shows a new secret once; revoke refreshes the row.
    frame.click(f"#source-rows tr[data-source='{source.public_id}'] .source-rotate")
    frame.wait_for_selector("#secret-box:not([hidden])")
    assert frame.inner_text("#secret-value") not in ("", secret)
    frame.click(f"#source-rows tr[data-source='{source.public_id}'] .btn.danger")
    frame.wait_for_selector(f"#source-rows tr[data-source='{source.public_id}'] .pill.revoked")
    source.refresh_from_db()
    assert source.is_revoked
