"""The flows JSON API over HTTP with signed user tokens: CRUD, versions, validation, roles, tenants."""

import pytest

from flows.models import Flow, FlowRun
from flows.tests.helpers import AUTO_TAG_FLOW, flow_doc, http_flow

pytestmark = pytest.mark.django_db


def test_crud_and_version_bumps(studio):
    r = studio.post("/flows", AUTO_TAG_FLOW)
    assert r.status_code == 201, r.content
    flow = r.json()
    assert flow["id"].startswith("flw_") and flow["version"] == 1 and flow["enabled"] is True
    assert flow["actions"] == AUTO_TAG_FLOW["actions"] and flow["created_by"]

    listed = studio.get("/flows").json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == flow["id"]
    assert studio.get(f"/flows/{flow['id']}").json()["name"] == "Tag bug work"

    r = studio.put(f"/flows/{flow['id']}", flow_doc(name="Renamed"))
    assert r.status_code == 200 and r.json()["name"] == "Renamed" and r.json()["version"] == 2
    r = studio.patch(f"/flows/{flow['id']}", {"conditions": {"mode": "any", "rules": []}})
    assert r.json()["version"] == 3 and r.json()["conditions"]["mode"] == "any"
    assert r.json()["name"] == "Renamed"  # PATCH keeps the other fields
    r = studio.patch(f"/flows/{flow['id']}", {"name": "Renamed"})  # no change: no new version
    assert r.json()["version"] == 3
    r = studio.post(f"/flows/{flow['id']}/disable")
    assert r.json()["enabled"] is False and r.json()["version"] == 4
    r = studio.post(f"/flows/{flow['id']}/enable")
    assert r.json()["enabled"] is True and r.json()["version"] == 5

    assert studio.delete(f"/flows/{flow['id']}").status_code == 204
    assert studio.get(f"/flows/{flow['id']}").status_code == 404
    assert not Flow.objects.exists()


BAD = [
    # (variant fixture, document change, field named, words in the message)
    ("studio", {"actions": [{"type": "clockify", "operation": "launchRocket"}]}, "actions[0].operation",
     "unknown operation"),
    ("studio", {"actions": [{"type": "clockify", "operation": "GET /v1/nowhere"}]}, "actions[0].operation",
     "unknown operation"),
    ("studio", {"conditions": {"rules": [{"path": "$..[", "op": "==", "value": 1}]}}, "conditions.rules[0].path",
     "JSONPath"),
    ("studio", {"conditions": {"rules": [{"path": "$.a", "op": "~=", "value": 1}]}}, "conditions.rules[0].op",
     "unknown operator"),
    ("studio", {"conditions": {"mode": "most", "rules": []}}, "conditions.mode", "all or any"),
    ("studio", {"actions": [{"type": "clockify", "operation": "createNewTag",
                             "body": {"name": "{{steps[0].response.name}}"}}]}, "actions[0].body",
     "does not run before"),
    ("studio", {"actions": [AUTO_TAG_FLOW["actions"][0], {"type": "clockify", "operation": "createNewTag",
                                                          "body": {"name": "{{steps[2].response.id}}"}}]},
     "actions[1].body", "refers to step 2"),
    ("studio", {"actions": [{"type": "clockify", "operation": "createNewTag", "body": {"name": "{{event.x"}}]},
     "actions[0].body", "unbalanced"),
    ("studio", {"actions": [{"type": "clockify", "operation": "createNewTag",
                             "body": {"name": "{{os.system}}"}}]}, "actions[0].body", "must start with"),
    ("studio", {"actions": [{"type": "http", "url": "https://example.com/hook"}]}, "actions[0].type",
     "not available on this plan"),
    ("studio", {"actions": [{"type": "shell", "command": "id"}]}, "actions[0].type", "unknown action type"),
    ("studio", {"trigger": {"events": ["NEW_TASK"]}}, "trigger.events[0]", "not an event"),
    ("studio", {"trigger": {"custom_source": "src_x"}}, "trigger.custom_source", "not available on this plan"),
    ("studio", {"trigger": {}}, "trigger", "required"),
    ("studio", {"actions": []}, "actions", "non-empty"),
    ("studio", {"name": ""}, "name", "required"),
    ("studio", {"actions": [{"type": "clockify", "operation": "updateTimeEntry", "body": {}}]},
     "actions[0].params.id", "required by updateTimeEntry"),
    ("studio", {"actions": [{"type": "clockify", "operation": "createNewTag", "body": {},
                             "params": {"workspaceId": "someone-elses"}}]}, "actions[0].params.workspaceId",
     "own workspace"),
    ("studio", {"actions": [{"type": "clockify", "operation": "createNewTag", "body": {}, "max_attempts": 99}]},
     "actions[0].max_attempts", "1 to 10"),
    ("uw_off", {"actions": [{"type": "http", "url": "https://example.com/hook"}]}, "actions[0].type",
     "enable_generic_http_actions"),
    ("uw", {"actions": [{"type": "http", "url": "http://169.254.169.254/latest"}]}, "actions[0].url", "metadata"),
    ("uw", {"actions": [{"type": "http", "url": "http://10.0.0.1/x"}]}, "actions[0].url", "private"),
    ("uw", {"actions": [{"type": "http", "url": "https://{{event.host}}/x"}]}, "actions[0].url",
     "cannot come from a template"),
    ("uw", {"actions": [{"type": "http", "url": "gopher://example.com/"}]}, "actions[0].url", "only http"),
    ("uw", {"actions": [{"type": "http", "url": "https://example.com/", "headers": {"Host": "internal"}}]},
     "actions[0].headers.Host", "set for you"),
    ("uw", {"trigger": {"custom_source": "src_missing"}}, "trigger.custom_source", "unknown custom source"),
]


@pytest.mark.parametrize("who,change,field,words", BAD, ids=[f for _, _, f, _ in BAD])
def test_validation_errors_name_the_field_and_store_nothing(install, who, change, field, words):
    if who == "studio":
        api = install("api-studio")
    elif who == "uw_off":
        api = install("universal-webhook")
    else:
        api = install("universal-webhook", settings={"enable_generic_http_actions": True})
    r = api.post("/flows", flow_doc(**change))
    assert r.status_code == 400, r.content
    errors = r.json()
    assert field in errors, errors
    assert words in errors[field][0]
    assert not Flow.objects.exists()


def test_update_with_errors_keeps_the_stored_flow(studio):
    flow = studio.post("/flows", AUTO_TAG_FLOW).json()
    r = studio.put(f"/flows/{flow['id']}", flow_doc(actions=[{"type": "clockify", "operation": "nope"}]))
    assert r.status_code == 400 and "actions[0].operation" in r.json()
    stored = Flow.objects.get(public_id=flow["id"])
    assert stored.version == 1 and stored.actions == AUTO_TAG_FLOW["actions"]


def test_domain_allow_list_is_checked_on_save(install):
    api = install("universal-webhook", settings={"enable_generic_http_actions": True,
                                                 "http_action_allowed_domains": "hooks.example.com"})
    assert api.post("/flows", http_flow("https://api.hooks.example.com/in")).status_code == 201
    r = api.post("/flows", http_flow("https://evil.example.org/in"))
    assert r.status_code == 400 and "allowed domains" in r.json()["actions[0].url"][0]


def test_tokens_and_roles(studio, client, foreign_keys):
    flow = studio.post("/flows", AUTO_TAG_FLOW).json()
    assert client.get(f"{studio.prefix}/flows").status_code == 401
    forged = studio.side.minter.sign(studio.side.minter.base_claims(workspaceRole="OWNER", exp=2_000_000_000),
                                     key=foreign_keys.private_pem)
    r = client.get(f"{studio.prefix}/flows", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401 and b"flw_" not in r.content

    user = studio.as_role("USER")
    assert user.get("/flows").status_code == 200  # any workspace user may look
    for response in (
        user.post("/flows", AUTO_TAG_FLOW),
        user.put(f"/flows/{flow['id']}", flow_doc(name="x")),
        user.post(f"/flows/{flow['id']}/disable"),
        user.delete(f"/flows/{flow['id']}"),
        user.post(f"/flows/{flow['id']}/test-run", {"event": {}}),
        user.get("/runs"),
        user.get(f"/flows/{flow['id']}/signing-secret"),
    ):
        assert response.status_code == 403, response.content
    assert Flow.objects.count() == 1 and Flow.objects.get().version == 1
    assert studio.as_role("ADMIN").post(f"/flows/{flow['id']}/disable").status_code == 200


def test_cross_tenant_access_is_not_found(install):
    a = install("universal-webhook", settings={"enable_generic_http_actions": True})
    b = install("universal-webhook", settings={"enable_generic_http_actions": True})
    flow = a.post("/flows", AUTO_TAG_FLOW).json()
    fid = flow["id"]
    run = FlowRun.objects.create(
        flow=Flow.objects.get(public_id=fid), installation=Flow.objects.get(public_id=fid).installation,
        flow_version=1, definition={}, event_type="NEW_TIME_ENTRY", event_payload={"secret": "a's data"},
        status="failed", deadline_at="2030-01-01T00:00:00Z")
    for response in (
        b.get(f"/flows/{fid}"),
        b.put(f"/flows/{fid}", flow_doc(name="hijacked")),
        b.patch(f"/flows/{fid}", {"name": "hijacked"}),
        b.post(f"/flows/{fid}/disable"),
        b.delete(f"/flows/{fid}"),
        b.post(f"/flows/{fid}/test-run", {"event": {"description": "bug"}}),
        b.get(f"/flows/{fid}/runs"),
        b.get(f"/flows/{fid}/signing-secret"),
        b.get(f"/runs/{run.public_id}"),
        b.post(f"/runs/{run.public_id}/replay", {"from": "start"}),
        b.get(f"/runs?flow={fid}"),
    ):
        assert response.status_code == 404, response.content
        assert b"a's data" not in response.content and b"Tag bug work" not in response.content
    assert b.get("/flows").json()["count"] == 0 and b.get("/runs").json()["count"] == 0
    stored = Flow.objects.get(public_id=fid)
    assert stored.name == "Tag bug work" and stored.enabled and stored.version == 1
    assert FlowRun.objects.filter(replay_of=run).count() == 0

    # The same workspace's other add-on is another tenant too.
    other_variant = install("api-studio")
    assert other_variant.get(f"/flows/{fid}").status_code == 404


def test_signing_secret_is_for_admins_and_never_in_the_flow(uw):
    flow = uw.post("/flows", http_flow("https://hooks.example.com/in", sign=True)).json()
    assert "signing_secret" not in flow and "whsec_" not in str(flow)
    secret = uw.get(f"/flows/{flow['id']}/signing-secret").json()["signing_secret"]
    assert secret.startswith("whsec_")
    assert secret not in Flow.objects.get(public_id=flow["id"]).signing_secret_encrypted


def test_openapi_schema_is_served(studio, client):
    r = client.get("/api-studio/api/v1/schema", HTTP_ACCEPT="application/json")
    assert r.status_code == 200
    text = r.content.decode()
    for path in ("/api/v1/flows", "/api/v1/flows/{flow_id}/test-run", "/api/v1/runs/{run_id}/replay"):
        assert path in text


def test_readers_who_are_not_admins_do_not_see_credentials_in_http_actions(uw):
    doc = http_flow("https://hooks.example.com/in", headers={"Authorization": "Bearer partner-secret",
                                                             "X-Api-Key": "k-123", "X-Team": "blue"})
    flow = uw.post("/flows", doc).json()
    assert flow["actions"][0]["headers"]["Authorization"] == "Bearer partner-secret"  # the admin who wrote it
    for response in (uw.as_role("USER").get(f"/flows/{flow['id']}"), uw.as_role("USER").get("/flows")):
        assert response.status_code == 200
        assert b"partner-secret" not in response.content and b"k-123" not in response.content
        # Every header value is hidden from readers (a custom header may carry a key too); names stay.
        assert b'"X-Team":"[redacted]"' in response.content.replace(b" ", b"")
