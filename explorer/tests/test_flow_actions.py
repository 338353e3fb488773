"""Save as flow action: a filled-in call becomes a ``clockify`` action of a new or existing flow."""

from __future__ import annotations

import pytest

from flows.models import Flow

pytestmark = pytest.mark.django_db

NEW_FLOW = {"name": "Tag new entries", "trigger": {"events": ["NEW_TIME_ENTRY"]}}


def test_save_into_a_new_flow_then_append_to_it(explorer_install):
    ex = explorer_install("api-studio")
    created = ex.post("save-as-flow-action", {
        "operation": "createNewTag", "body": {"name": "{{event.description}}"}, "flow": NEW_FLOW})
    assert created.status_code == 201, created.content
    flow = Flow.objects.get(installation=ex.installation, public_id=created.json()["flow_id"])
    assert flow.enabled is False and flow.trigger == {"events": ["NEW_TIME_ENTRY"]}
    assert flow.actions[0]["type"] == "clockify" and flow.actions[0]["operation"] == "createNewTag"
    assert flow.actions[0]["body"] == {"name": "{{event.description}}"}

    appended = ex.post("save-as-flow-action", {
        "operation": "GET /v1/workspaces/{workspaceId}/projects/{projectId}",
        "params": {"projectId": "{{event.projectId}}"}, "query": {"hydrated": True},
        "flow_id": flow.public_id})
    assert appended.status_code == 201, appended.content
    assert appended.json()["action_index"] == 1 and appended.json()["version"] == flow.version + 1
    flow.refresh_from_db()
    assert [a["operation"] for a in flow.actions] == ["createNewTag", "getProject"]
    assert flow.actions[1]["params"] == {"projectId": "{{event.projectId}}"}


def test_members_cannot_save_flow_actions(explorer_install):
    ex = explorer_install("universal-webhook")
    response = ex.post("save-as-flow-action", {"operation": "getTags", "flow": NEW_FLOW}, role="USER")
    assert response.status_code == 403 and response.json()["error"] == "admin_required"
    assert Flow.objects.count() == 0


@pytest.mark.parametrize("payload, field", [
    ({"operation": "notThere", "flow": NEW_FLOW}, None),
    ({"operation": "getTags", "query": {"bogus": 1}, "flow": NEW_FLOW}, "query.bogus"),
    ({"operation": "getTags", "params": {"id": "x"}, "flow": NEW_FLOW}, "path.id"),
    ({"operation": "getTags", "body": {"a": 1}, "flow": NEW_FLOW}, "body"),
    ({"operation": "getTags"}, "flow"),
    ({"operation": "getTags", "flow_id": "flw_x", "flow": NEW_FLOW}, "flow"),
    ({"operation": "getTags", "flow": {"name": "x"}}, "flow.trigger"),
    ({"operation": "getTags", "flow": {"name": "x", "trigger": {"events": ["NOT_AN_EVENT"]}}},
     "trigger.events[0]"),
])
def test_bad_save_requests_store_nothing(explorer_install, payload, field):
    ex = explorer_install("universal-webhook")
    response = ex.post("save-as-flow-action", payload)
    if field is None:
        assert response.status_code == 404 and response.json()["error"] == "unknown_operation"
    else:
        assert response.status_code == 400 and field in response.json()["errors"], response.content
    assert Flow.objects.count() == 0


def test_another_workspaces_flow_is_not_found(explorer_install):
    a = explorer_install("universal-webhook")
    b = explorer_install("universal-webhook")
    created = b.post("save-as-flow-action", {"operation": "getTags", "flow": NEW_FLOW}).json()
    response = a.post("save-as-flow-action", {"operation": "getTags", "flow_id": created["flow_id"]})
    assert response.status_code == 404 and response.json()["error"] == "unknown_flow"
    assert len(Flow.objects.get(public_id=created["flow_id"]).actions) == 1
