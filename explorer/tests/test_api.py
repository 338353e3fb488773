"""Browse/search/detail endpoints, authentication, the call log and cross-tenant isolation."""

from __future__ import annotations

import pytest

from explorer.models import ExplorerCall

pytestmark = pytest.mark.django_db


def test_tag_tree_marks_what_this_user_may_run(explorer_install):
    ex = explorer_install("api-studio")
    tree = ex.get("tags").json()
    assert tree["catalog"]["operations"] >= 30
    ops = {op["operation_id"]: op for g in tree["groups"] for t in g["tags"] for op in t["operations"]}
    assert ops["getProjects"]["allowed"] and not ops["createNewProject"]["allowed"]
    assert ops["createNewProject"]["needs_confirmation"] and not ops["getProjects"]["needs_confirmation"]
    uw = explorer_install("universal-webhook")
    uw_ops = {op["operation_id"]: op for g in uw.get("tags").json()["groups"] for t in g["tags"]
              for op in t["operations"]}
    assert uw_ops["createNewProject"]["allowed"]
    member_ops = {op["operation_id"]: op for g in uw.get("tags", role="USER").json()["groups"] for t in g["tags"]
                  for op in t["operations"]}
    assert not member_ops["createNewProject"]["allowed"] and member_ops["getProjects"]["allowed"]


def test_search_and_detail(explorer_install):
    ex = explorer_install("universal-webhook")
    found = ex.get("operations", text="tag", method="delete").json()
    assert [op["operation_id"] for op in found["results"]] == ["deleteTag"]
    assert ex.get("operations", tag="Time entry").json()["count"] == 5
    assert ex.get("operations", method="TRACE").status_code == 400
    detail = ex.get("operations/getTimeEntries").json()
    assert detail["path"] == "/v1/workspaces/{workspaceId}/user/{userId}/time-entries"
    assert detail["prefilled"] == {"workspaceId": ex.ws.workspace_id, "userId": ex.owner_id}
    start = next(p for p in detail["parameters"] if p["name"] == "start")
    assert start["in"] == "query" and start["format"] == "date-time" and not start["required"]
    body = ex.get("operations/createTimeEntry").json()
    assert body["request_body_required"] and body["request_body_schema"]["required"] == ["start"]
    assert body["examples"]["body"]["start"] == "2026-01-05T09:00:00Z"
    missing = ex.get("operations/notThere")
    assert missing.status_code == 404 and missing.json()["error"] == "unknown_operation"


@pytest.mark.parametrize("tail", ["tags", "operations", "operations/getTags", "calls"])
def test_every_endpoint_needs_a_valid_user_token(explorer_install, foreign_keys, tail):
    from clockify_standin.signing import TokenMinter

    ex = explorer_install("api-studio")
    assert ex.client.get(ex.url(tail)).status_code == 401
    forged = TokenMinter(foreign_keys.private_pem, addon_key=ex.ws.variant.key, workspace_id=ex.ws.workspace_id,
                         addon_id=ex.ws.addon_id).user_token()
    assert ex.get(tail, token=forged).status_code == 401
    expired = ex.ws.minter.user_token(ttl_seconds=-600)
    assert ex.get(tail, token=expired).status_code == 401
    # A token for the other add-on (another manifest key) is not valid here.
    other = TokenMinter(ex.ws.minter.private_pem, addon_key="clockify-universal-webhook",
                        workspace_id=ex.ws.workspace_id, addon_id=ex.ws.addon_id).user_token()
    assert ex.get(tail, token=other).status_code == 401


def test_execute_without_a_token_sends_nothing(explorer_install, standin):
    ex = explorer_install("api-studio")
    response = ex.client.post(ex.url("execute"), {"operation": "getTags"}, content_type="application/json")
    assert response.status_code == 401
    assert standin.request_log.count() == 0 and ExplorerCall.objects.count() == 0


def test_call_log_admins_see_all_members_see_their_own(explorer_install):
    ex = explorer_install("api-studio")
    ex.execute("getTags", role="OWNER")
    ex.execute("getClients", role="USER")
    ex.execute("getProjects", role="USER")
    everything = ex.get("calls", role="OWNER").json()["results"]
    assert [c["operation_id"] for c in everything] == ["getProjects", "getClients", "getTags"]
    own = ex.get("calls", role="USER").json()["results"]
    assert [c["operation_id"] for c in own] == ["getProjects", "getClients"]
    assert all(c["user_id"] == ex.member_id for c in own)
    page = ex.get("calls", limit=1, before=everything[0]["id"]).json()["results"]
    assert [c["operation_id"] for c in page] == ["getClients"]
    assert ex.get("calls", operation="getTags").json()["results"][0]["status_code"] == 200
    assert ex.get("calls", limit="many").status_code == 400


def test_cross_tenant_a_token_of_workspace_a_never_sees_b(explorer_install, standin):
    a = explorer_install("universal-webhook")
    b = explorer_install("universal-webhook")
    b.execute("getTags")
    b_call = ExplorerCall.objects.get(installation=b.installation)
    assert a.get("calls").json()["results"] == []
    # A's token with B's workspace id in the path is refused, nothing sent to B.
    before = standin.request_log.count(workspace_id=b.ws.workspace_id)
    response = a.execute("getTags", params={"workspaceId": b.ws.workspace_id})
    assert response.status_code == 400 and "path.workspaceId" in response.json()["errors"]
    assert standin.request_log.count(workspace_id=b.ws.workspace_id) == before
    # A token claiming B's workspace but A's addon id does not authenticate.
    from clockify_standin.signing import TokenMinter

    mixed = TokenMinter(a.ws.minter.private_pem, addon_key=a.ws.variant.key, workspace_id=b.ws.workspace_id,
                        addon_id=a.ws.addon_id).user_token()
    assert a.get("calls", token=mixed).status_code == 401
    assert ExplorerCall.objects.filter(installation=b.installation).get() == b_call
    # A ran nothing itself: its log stayed empty through all of this.
    assert ExplorerCall.objects.filter(installation=a.installation).count() == 0
