"""Plan and role gating, and parameter validation: refused before anything reaches Clockify."""

from __future__ import annotations

import pytest

from explorer.models import ExplorerCall

pytestmark = pytest.mark.django_db


def _nothing_sent(ex, standin):
    assert standin.request_log.count(workspace_id=ex.ws.workspace_id) == 0
    assert ExplorerCall.objects.filter(installation=ex.installation).count() == 0


@pytest.mark.parametrize("role", ["OWNER", "ADMIN", "USER"])
def test_api_studio_runs_get_only(explorer_install, standin, role):
    ex = explorer_install("api-studio")
    response = ex.execute("createNewTag", role=role, body={"name": "nope"}, confirm=True)
    assert response.status_code == 403 and response.json()["error"] == "plan_read_only"
    _nothing_sent(ex, standin)
    assert ex.execute("getTags", role=role).json()["status"] == 200


def test_api_studio_cannot_read_what_it_declares_no_scope_for(explorer_install, standin):
    """API Studio's manifest asks for no TIME_OFF_READ: the explorer refuses before calling Clockify,
    and lists the operation as not allowed."""
    ex = explorer_install("api-studio")
    response = ex.execute("findPoliciesForWorkspace")
    assert response.status_code == 403 and response.json()["error"] == "scope_not_declared"
    assert "TIME_OFF_READ" in response.json()["detail"]
    _nothing_sent(ex, standin)
    assert ex.get("operations/findPoliciesForWorkspace").json()["allowed"] is False
    assert ex.get("operations/getTags").json()["allowed"] is True


@pytest.mark.parametrize("role", ["USER", "TEAM_MANAGER", "PROJECT_MANAGER"])
def test_universal_webhook_writes_need_an_admin(explorer_install, standin, role):
    ex = explorer_install("universal-webhook")
    response = ex.execute("createNewTag", role=role, body={"name": "nope"}, confirm=True)
    assert response.status_code == 403 and response.json()["error"] == "admin_required"
    _nothing_sent(ex, standin)


@pytest.mark.parametrize("confirm", [None, False, "yes-please"])
def test_universal_webhook_writes_need_confirmation(explorer_install, standin, confirm):
    ex = explorer_install("universal-webhook")
    fields = {"body": {"name": "nope"}}
    if confirm is not None:
        fields["confirm"] = confirm
    response = ex.execute("createNewTag", **fields)
    assert response.status_code == 400
    if confirm == "yes-please":  # not a boolean at all
        assert "confirm" in response.json()["errors"]
    else:
        assert response.json()["error"] == "confirmation_required"
    _nothing_sent(ex, standin)


def test_admin_with_confirmation_may_write(explorer_install, standin):
    ex = explorer_install("universal-webhook")
    assert ex.execute("createNewTag", role="ADMIN", body={"name": "fine"}, confirm=True).json()["status"] == 201


@pytest.mark.parametrize("operation", ["notAnOperation", "GET /v1/admin/secrets", "GET http://169.254.169.254/v1",
                                       "GET /v1/workspaces/{workspaceId}/../../etc"])
def test_operations_outside_the_catalogue_are_refused(explorer_install, standin, operation):
    ex = explorer_install("universal-webhook")
    response = ex.execute(operation, confirm=True)
    assert response.status_code == 404 and response.json()["error"] == "unknown_operation"
    _nothing_sent(ex, standin)


@pytest.mark.parametrize("fields, field, reason", [
    ({"query": {"page": "two"}}, "query.page", "integer"),
    ({"query": {"page": 0}}, "query.page", "at least 1"),
    ({"query": {"sort-order": "SIDEWAYS"}}, "query.sort-order", "ASCENDING"),
    ({"query": {"archived": "maybe"}}, "query.archived", "boolean"),
    ({"query": {"clients": {"a": 1}}}, "query.clients", "list"),
    ({"query": {"nope": 1}}, "query.nope", "not a query parameter"),
    ({"params": {"projectId": "x"}}, "path.projectId", "not a path parameter"),
    ({"params": {"workspaceId": "another-workspace"}}, "path.workspaceId", "this installation's workspace"),
    ({"body": {"name": "x"}}, "body", "takes no body"),
    ({"query": ["page", 1]}, "query", "expected an object"),
])
def test_bad_parameters_are_a_400_naming_the_parameter(explorer_install, standin, fields, field, reason):
    ex = explorer_install("api-studio")
    response = ex.execute("getProjects", **fields)
    assert response.status_code == 400, response.content
    payload = response.json()
    assert payload["error"] == "invalid_parameters" and field in payload["errors"], payload
    assert reason in payload["errors"][field] and field in payload["detail"]
    _nothing_sent(ex, standin)


@pytest.mark.parametrize("operation, fields, field", [
    ("getClient", {}, "path.id"),
    ("getClient", {"params": {"id": "../../v1/user"}}, "path.id"),
    ("getClient", {"params": {"id": ".."}}, "path.id"),
    ("createNewTag", {"confirm": True}, "body"),
    ("createNewTag", {"confirm": True, "body": {"archived": True}}, "body.name"),
    ("createNewTag", {"confirm": True, "body": ["name"]}, "body"),
    ("updateTask", {"confirm": True, "params": {"projectId": "p", "taskId": "t"},
                    "body": {"name": "n", "status": "SOMETIMES"}}, "body.status"),
])
def test_bad_path_values_and_bodies(explorer_install, standin, operation, fields, field):
    ex = explorer_install("universal-webhook")
    response = ex.execute(operation, **fields)
    assert response.status_code == 400 and field in response.json()["errors"], response.content
    _nothing_sent(ex, standin)


def test_inactive_installation_cannot_execute(explorer_install, standin):
    ex = explorer_install("api-studio")
    assert ex.ws.lifecycle(ex.client, "STATUS_CHANGED", {"workspaceId": ex.ws.workspace_id,
                                                         "addonId": ex.ws.addon_id,
                                                         "status": "INACTIVE"}).status_code == 200
    response = ex.execute("getTags")
    assert response.status_code == 409 and response.json()["error"] == "installation_unavailable"
    _nothing_sent(ex, standin)
