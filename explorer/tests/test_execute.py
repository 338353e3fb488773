"""Executing operations against the local Clockify stand-in, through the real HTTP API."""

from __future__ import annotations

import json
import logging

import pytest

from explorer.models import ExplorerCall
from installations import selectors as installation_selectors

pytestmark = pytest.mark.django_db


def test_paginated_get_list(explorer_install, standin):
    ex = explorer_install("api-studio", seed_size=120)
    data = standin.workspace(ex.ws.workspace_id)
    projects = list(data.entities["projects"].values())
    assert len(projects) > 5
    first = ex.execute("getProjects", query={"page": 1, "page-size": 5})
    second = ex.execute("GET /v1/workspaces/{workspaceId}/projects", query={"page": "2", "page-size": "5"})
    assert first.status_code == 200 and second.status_code == 200, second.content
    a, b = first.json(), second.json()
    assert a["status"] == 200 and a["ok"] and a["headers"]["last-page"] == "false"
    assert [p["id"] for p in a["body"]] == [p["id"] for p in projects[:5]]
    assert [p["id"] for p in b["body"]] == [p["id"] for p in projects[5:10]]
    assert a["path"] == f"/v1/workspaces/{ex.ws.workspace_id}/projects" and a["host"] == "backend"
    assert a["latency_ms"] >= 0 and a["attempts"] == 1 and a["body_truncated"] is False
    # workspaceId was prefilled from the installation; the stand-in saw exactly these calls.
    sent = standin.request_log.calls(method="GET", path_contains="/projects", workspace_id=ex.ws.workspace_id)
    assert [r.query for r in sent] == [{"page": "1", "page-size": "5"}, {"page": "2", "page-size": "5"}]
    logged = list(ExplorerCall.objects.filter(installation=ex.installation).order_by("id"))
    assert [(c.operation_id, c.status_code, c.user_id) for c in logged] == [
        ("getProjects", 200, ex.owner_id), ("getProjects", 200, ex.owner_id)]
    assert logged[0].request_summary == {"params": {"workspaceId": ex.ws.workspace_id},
                                         "query": {"page": "1", "page-size": "5"}}


def test_post_in_universal_webhook_creates_the_entity(explorer_install, standin):
    ex = explorer_install("universal-webhook")
    response = ex.execute("createNewTag", body={"name": "urgent"}, confirm=True)
    assert response.status_code == 200, response.content
    result = response.json()
    assert result["status"] == 201 and result["body"]["name"] == "urgent"
    tags = standin.workspace(ex.ws.workspace_id).entities["tags"]
    assert result["body"]["id"] in tags
    call = ExplorerCall.objects.get(installation=ex.installation)
    assert (call.method, call.status_code, call.used_installation_token) == ("POST", 201, True)
    assert json.loads(call.request_summary["body"]) == {"name": "urgent"}


def test_write_then_path_parameters_and_delete(explorer_install, standin):
    ex = explorer_install("universal-webhook")
    created = ex.execute("createClient", body={"name": "Acme Ltd"}, confirm=True).json()["body"]
    updated = ex.execute("updateClient", params={"id": created["id"]}, body={"name": "Acme GmbH"}, confirm=True)
    assert updated.json()["status"] == 200 and updated.json()["body"]["name"] == "Acme GmbH"
    deleted = ex.execute("DELETE /v1/workspaces/{workspaceId}/clients/{id}", params={"id": created["id"]},
                         confirm=True)
    assert deleted.json()["status"] == 200
    assert created["id"] not in standin.workspace(ex.ws.workspace_id).entities["clients"]
    missing = ex.execute("getClient", params={"id": created["id"]}).json()
    assert missing["status"] == 404 and not missing["ok"]  # Clockify's answer is a result, not an error


def test_user_id_is_prefilled_and_non_admins_call_with_their_own_token(explorer_install, standin):
    ex = explorer_install("api-studio")
    me = ex.execute("getLoggedUser", role="USER").json()
    assert me["status"] == 200 and me["body"]["id"] == ex.member_id  # the stand-in saw the user's token
    as_admin = ex.execute("getLoggedUser", role="OWNER").json()
    assert as_admin["body"]["id"] == ex.owner_id  # the installation token
    entries = ex.execute("getTimeEntries", role="USER", query={"page-size": 3}).json()
    assert entries["status"] == 200 and entries["path"].endswith(f"/user/{ex.member_id}/time-entries")
    calls = ExplorerCall.objects.filter(installation=ex.installation, user_id=ex.member_id)
    assert calls.count() == 2 and not any(c.used_installation_token for c in calls)


def test_report_operation_goes_to_the_reports_host(explorer_install, standin, tmp_path):
    from django.core.management import call_command

    doc = tmp_path / "reports.json"
    doc.write_text(json.dumps({
        "openapi": "3.0.1", "info": {"title": "r", "version": "1"},
        "paths": {"/v1/workspaces/{workspaceId}/reports/detailed": {
            "servers": [{"url": "https://reports.api.clockify.me"}],
            "post": {"operationId": "generateDetailedReport", "tags": ["Time Entry Report"],
                     "parameters": [{"name": "workspaceId", "in": "path", "required": True,
                                     "schema": {"type": "string"}}],
                     "requestBody": {"required": True, "content": {"application/json": {"schema": {
                         "type": "object", "required": ["dateRangeStart", "dateRangeEnd"],
                         "properties": {"dateRangeStart": {"type": "string"}, "dateRangeEnd": {"type": "string"},
                                        "detailedFilter": {"type": "object"}}}}}},
                     "responses": {}}}}}))
    call_command("sync_openapi", "--source", str(doc))
    ex = explorer_install("universal-webhook")
    body = {"dateRangeStart": "2020-01-01T00:00:00Z", "dateRangeEnd": "2030-01-01T00:00:00Z",
            "detailedFilter": {"page": 1, "pageSize": 2}}
    result = ex.execute("generateDetailedReport", body=body, confirm=True).json()
    assert result["status"] == 200 and result["host"] == "reports" and len(result["body"]["timeentries"]) == 2
    assert standin.request_log.count(method="POST", path_contains="/reports/v1/workspaces/") == 1


def test_large_bodies_are_truncated_with_a_marker_and_the_log_is_bounded(explorer_install, settings):
    settings.EXPLORER_RESPONSE_MAX_BYTES = 300
    settings.EXPLORER_LOG_BODY_BYTES = 100
    ex = explorer_install("api-studio")
    result = ex.execute("getProjects", query={"page-size": 20}).json()
    assert result["body_truncated"] is True and result["body_bytes"] > 300
    assert isinstance(result["body"], str) and f"300 of {result['body_bytes']} bytes shown" in result["body"]
    call = ExplorerCall.objects.get(installation=ex.installation)
    assert call.response_bytes == result["body_bytes"]
    assert call.response_excerpt.startswith(result["body"][:100]) and "truncated: 100 of" in call.response_excerpt


def test_no_token_reaches_the_call_log_or_the_logs(explorer_install, caplog):
    ex = explorer_install("universal-webhook")
    user_token = ex.token("USER")
    install_token = installation_selectors.installation_token(installation=ex.installation)
    with caplog.at_level(logging.DEBUG):
        ex.post("execute", {"operation": "getTags"}, token=user_token)
        ex.execute("createNewTag", body={"name": "x1"}, confirm=True)
    stored = json.dumps([{f.name: str(getattr(c, f.name)) for f in ExplorerCall._meta.fields}
                         for c in ExplorerCall.objects.all()])
    assert ExplorerCall.objects.count() == 2
    for secret in (user_token, install_token):
        assert secret not in stored and secret not in caplog.text


def test_unreachable_clockify_is_a_502_and_is_logged(explorer_install, standin, settings):
    settings.CLOCKIFY_MAX_RETRIES = 0
    ex = explorer_install("api-studio")
    standin.stop()
    response = ex.execute("getTags")
    assert response.status_code == 502
    assert response.json()["status"] is None and response.json()["error"] == "clockify_unreachable"
    call = ExplorerCall.objects.get(installation=ex.installation)
    assert call.status_code is None and call.error == "clockify_unreachable"


def _install_against(make_workspace, client, backend_url: str):
    from clockify_standin.testing import hex_id

    ws = make_workspace("api-studio", workspace_id=hex_id())
    ws.minter.backend_url = backend_url
    assert ws.lifecycle(client, "INSTALLED").status_code == 200
    return ws


def _execute(client, ws, operation: str):
    return client.post("/api-studio/api/v1/explorer/execute", data={"operation": operation},
                       content_type="application/json",
                       HTTP_AUTHORIZATION=f"Bearer {ws.minter.user_token(role='OWNER')}")


# Issue 15, item 5: a web request running the explorer has one deadline, retries included.
def test_a_dripping_clockify_ends_the_call_at_the_explorer_deadline(make_workspace, client, settings):
    import time

    from tests.drip import DripServer

    settings.EXPLORER_EXECUTE_TIMEOUT_SECONDS = 2.0
    settings.CLOCKIFY_MAX_RETRIES = 5
    settings.CLOCKIFY_BACKOFF_BASE_SECONDS = 0.01
    with DripServer(interval=0.9, mode="drip-body") as server:
        ws = _install_against(make_workspace, client, server.base + "/api")
        started = time.monotonic()
        response = _execute(client, ws, "getTags")
        elapsed = time.monotonic() - started
    assert response.status_code == 502 and response.json()["error"] == "clockify_timeout", response.content
    assert elapsed < 2.9, elapsed
    assert ExplorerCall.objects.get().error == "clockify_timeout"


def test_a_response_over_the_size_cap_is_a_clear_502(make_workspace, client, settings):
    from tests.drip import DripServer

    settings.CLOCKIFY_RESPONSE_MAX_BYTES = 100_000
    with DripServer(mode="huge", huge_bytes=3_000_000) as server:
        ws = _install_against(make_workspace, client, server.base + "/api")
        response = _execute(client, ws, "getTags")
        assert len(server.hits) == 1  # not retried: a second try would be as large
    assert response.status_code == 502 and response.json()["error"] == "response_too_large", response.content
