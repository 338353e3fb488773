"""Flow secrets: credentials of http actions kept encrypted, referenced as ``{{secrets.NAME}}``,
write-only in the API and the builder, "set" in admin, masked in everything a run records."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model

from flows import services
from flows.models import Flow, FlowSecret
from flows.tests.helpers import event
from flows.tests.test_execution import run_to_end
from installations import crypto

pytestmark = pytest.mark.django_db

@pytest.fixture(autouse=True)
def _receiver_on_loopback(allow_private):
    """The partner's endpoint is the local receiver."""


API_TOKEN = "tok_live_" + "a1b2c3d4" * 4
HOOK_PATH = "T0001/B0002/" + "x9y8z7w6" * 3


def secret_flow(receiver, **overrides):
    doc = {
        "name": "Notify partner",
        "trigger": {"events": ["NEW_TIME_ENTRY"]},
        "actions": [{
            "type": "http", "method": "POST",
            "url": receiver.url("/hook/") + "{{secrets.HOOK_PATH}}",
            "headers": {"Authorization": "Bearer {{secrets.API_TOKEN}}"},
            "body": {"entry": "{{event.id}}", "signature": "{{secrets.API_TOKEN}}"},
        }],
        "secrets": {"API_TOKEN": API_TOKEN, "HOOK_PATH": HOOK_PATH},
    }
    doc.update(overrides)
    return doc


def _shows_no_secret(text: str) -> bool:
    return API_TOKEN not in text and HOOK_PATH not in text


def test_secrets_are_stored_encrypted_and_never_returned(uw, receiver):
    created = uw.post("/flows", secret_flow(receiver))
    assert created.status_code == 201, created.content
    assert _shows_no_secret(created.content.decode())
    assert [s["name"] for s in created.json()["secrets"]] == ["API_TOKEN", "HOOK_PATH"]
    flow_id = created.json()["id"]
    stored = {s.name: s for s in FlowSecret.objects.all()}
    assert API_TOKEN not in stored["API_TOKEN"].value_encrypted
    assert crypto.decrypt(stored["API_TOKEN"].value_encrypted) == API_TOKEN
    for role in ("OWNER", "WORKSPACE_ADMIN", "USER"):
        for response in (uw.as_role(role).get(f"/flows/{flow_id}"), uw.as_role(role).get("/flows")):
            assert response.status_code == 200 and _shows_no_secret(response.content.decode()), role
    page = uw.client.get(f"/universal-webhook/ui/flows/{flow_id}", {"auth_token": uw.side.user_token("OWNER")})
    assert page.status_code == 200 and _shows_no_secret(page.content.decode())
    assert '"secrets": ["API_TOKEN", "HOOK_PATH"]' in page.content.decode()  # the builder lists names


def test_a_run_sends_the_secrets_and_records_only_their_names(uw, receiver):
    flow_id = uw.post("/flows", secret_flow(receiver)).json()["id"]
    [run] = services.flow_runs_for_event(event=event(uw, {"id": "te-1"}))
    run = run_to_end(run)
    assert run.status == "succeeded", (run.error, [s.error for s in run.steps.all()])
    [received] = receiver.requests
    assert received.path == f"/hook/{HOOK_PATH}"
    assert received.headers["Authorization"] == f"Bearer {API_TOKEN}"
    assert json.loads(received.body) == {"entry": "te-1", "signature": API_TOKEN}
    [step] = run.steps.all()
    recorded = json.dumps([step.request, step.response, step.error, run.definition])
    assert _shows_no_secret(recorded)
    assert step.request["url"].endswith("/hook/[secret HOOK_PATH]")  # the receiver echoed the path too
    assert step.response["path"] == "/hook/[secret HOOK_PATH]"
    detail = uw.get(f"/runs/{run.public_id}")
    assert detail.status_code == 200 and _shows_no_secret(detail.content.decode())
    page = uw.client.get(f"/universal-webhook/ui/flows/runs/{run.public_id}",
                         {"auth_token": uw.side.user_token("OWNER")})
    assert page.status_code == 200 and _shows_no_secret(page.content.decode())
    test_run = uw.post(f"/flows/{flow_id}/test-run", {"event": {"id": "te-2"}})
    assert test_run.status_code == 200 and _shows_no_secret(test_run.content.decode())
    assert "<secrets.API_TOKEN>" in test_run.json()["requests"][0]["headers"]["Authorization"]


def test_replace_and_remove_bump_the_version(uw, receiver):
    flow = uw.post("/flows", secret_flow(receiver)).json()
    replaced = uw.patch(f"/flows/{flow['id']}", {"secrets": {"API_TOKEN": "tok_rotated_" + "q" * 20}})
    assert replaced.status_code == 200 and replaced.json()["version"] == flow["version"] + 1
    assert crypto.decrypt(FlowSecret.objects.get(name="API_TOKEN").value_encrypted) == "tok_rotated_" + "q" * 20
    same = uw.patch(f"/flows/{flow['id']}", {"secrets": {"API_TOKEN": "tok_rotated_" + "q" * 20}})
    assert same.json()["version"] == replaced.json()["version"]  # nothing changed
    # Still used by the action: refused, nothing changes.
    refused = uw.patch(f"/flows/{flow['id']}", {"secrets": {"API_TOKEN": None}})
    assert refused.status_code == 400 and "actions[0].headers" in refused.json()
    assert FlowSecret.objects.filter(name="API_TOKEN").exists()
    action = {**secret_flow(receiver)["actions"][0], "headers": {}, "body": {"entry": "{{event.id}}"}}
    removed = uw.patch(f"/flows/{flow['id']}", {"actions": [action], "secrets": {"API_TOKEN": None}})
    assert removed.status_code == 200, removed.content
    assert [s["name"] for s in removed.json()["secrets"]] == ["HOOK_PATH"]
    assert not FlowSecret.objects.filter(name="API_TOKEN").exists()


def test_a_secret_removed_after_a_run_started_fails_that_step_clearly(uw, receiver):
    flow = Flow.objects.get(public_id=uw.post("/flows", secret_flow(receiver)).json()["id"])
    [run] = services.flow_runs_for_event(event=event(uw, {"id": "te-1"}))
    FlowSecret.objects.filter(flow=flow, name="API_TOKEN").delete()
    run = run_to_end(run)
    assert run.status == "failed" and "secrets.API_TOKEN is not set" in run.error
    assert receiver.requests == []


BAD_SECRETS = [
    ({"secrets": "API_TOKEN=x"}, "secrets", "an object"),
    ({"secrets": {"1BAD": "x" * 10}}, "secrets.1BAD", "name"),
    ({"secrets": {"API_TOKEN": "short"}}, "secrets.API_TOKEN", "8 to 4096"),
    ({"secrets": {"API_TOKEN": "x" * 20 + "\nInjected: 1"}}, "secrets.API_TOKEN", "one line"),
    ({"secrets": {"API_TOKEN": 12345678}}, "secrets.API_TOKEN", "string"),
    ({"secrets": {f"S{i}": "x" * 10 for i in range(21)}}, "secrets", "at most 20"),
    ({"secrets": {"API_TOKEN": API_TOKEN}}, "actions[0].url", "no secret HOOK_PATH"),
]


@pytest.mark.parametrize("change, field, words", BAD_SECRETS)
def test_bad_secrets_are_refused_and_nothing_is_stored(uw, receiver, change, field, words):
    response = uw.post("/flows", secret_flow(receiver, **change))
    assert response.status_code == 400, response.content
    assert field in response.json() and words in " ".join(response.json()[field]), response.json()
    assert not Flow.objects.exists() and not FlowSecret.objects.exists()
    assert API_TOKEN not in response.content.decode()


def test_secrets_only_in_http_actions(uw, receiver):
    doc = secret_flow(receiver, actions=[{"type": "clockify", "operation": "createNewTag",
                                          "body": {"name": "{{secrets.API_TOKEN}}"}}])
    response = uw.post("/flows", doc)
    assert response.status_code == 400 and "http actions only" in response.json()["actions[0].body"][0]
    assert not FlowSecret.objects.exists()


def test_readers_cannot_set_secrets(uw, receiver):
    flow = uw.post("/flows", secret_flow(receiver)).json()
    refused = uw.as_role("USER").patch(f"/flows/{flow['id']}", {"secrets": {"API_TOKEN": "y" * 30}})
    assert refused.status_code == 403
    assert crypto.decrypt(FlowSecret.objects.get(name="API_TOKEN").value_encrypted) == API_TOKEN


def test_support_staff_see_set_not_the_value(uw, receiver, client):
    flow = Flow.objects.get(public_id=uw.post("/flows", secret_flow(receiver)).json()["id"])
    client.force_login(get_user_model().objects.create_superuser("support", "s@example.com", "pw-tests-only"))
    page = client.get(f"/admin/flows/flow/{flow.pk}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "API_TOKEN" in text and "HOOK_PATH" in text and ">set<" in text
    assert _shows_no_secret(text)
    assert not [s for s in FlowSecret.objects.all() if s.value_encrypted in text]
