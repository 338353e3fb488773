"""Execution against the Clockify stand-in and a local receiver: chained steps, retries, redelivery,
replay, test-run, signing, retention. Events come in through the processor webhooks calls."""

import base64
import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from config.celery import app as celery_app
from flows import services
from flows.models import Flow, FlowRun, FlowRunStep, StepStatus
from flows.processor import start_flows_for_event
from flows.tests.helpers import AUTO_TAG_FLOW, event, existing_entry, flow_doc, http_flow, installation_of

pytestmark = pytest.mark.django_db

@pytest.fixture(autouse=True)
def fast_backoff(settings):
    settings.FLOW_STEP_BACKOFF_BASE_SECONDS = 0.01
    settings.FLOW_STEP_BACKOFF_MAX_SECONDS = 0.05


def run_to_end(run: FlowRun, limit: int = 20) -> FlowRun:
    """Deliver the run's task until it stops asking to be retried (what the worker does)."""
    for _ in range(limit):
        outcome = services.flow_run_execute(run_id=run.pk)
        if outcome.retry_in is None:
            break
    run.refresh_from_db()
    return run


def steps_of(run: FlowRun) -> list[FlowRunStep]:
    return list(run.steps.order_by("index"))


def test_auto_tagging_end_to_end(studio, standin):
    ws = studio.side.workspace_id
    assert studio.post("/flows", AUTO_TAG_FLOW).status_code == 201
    entry = existing_entry(standin, ws, "Fixing a bug in the login form")

    [run] = services.flow_runs_for_event(event=event(studio, entry))
    assert run.status == "queued" and run.conditions_result["matched"] is True
    run = run_to_end(run)
    assert run.status == "succeeded", (run.error, [s.error for s in steps_of(run)])

    tags = [t for t in standin.workspace(ws).entities["tags"].values() if t["name"] == "bug"]
    assert len(tags) == 1
    assert standin.workspace(ws).entities["time-entries"][entry["id"]]["tagIds"] == [tags[0]["id"]]
    first, second = steps_of(run)
    assert first.status == "succeeded" and first.attempts == 1 and first.status_code in (200, 201)
    assert first.response["id"] == tags[0]["id"]
    assert second.request["method"] == "PUT" and second.request["body"]["tagIds"] == [tags[0]["id"]]
    assert second.request["url"] == f"{standin.backend_url}/v1/workspaces/{ws}/time-entries/{entry['id']}"
    assert "X-Addon-Token" not in json.dumps(second.request)

    # A time entry without "bug" is recorded as skipped and sends nothing.
    sent_before = len(standin.request_log)
    [skipped] = services.flow_runs_for_event(event=event(studio, existing_entry(standin, ws, "Writing docs")))
    assert skipped.status == "skipped" and skipped.conditions_result["rules"][0]["matched"] is False
    assert services.flow_run_execute(run_id=skipped.pk).status == "skipped"
    assert len(standin.request_log) == sent_before


def test_runs_and_steps_are_counted_in_metrics(uw, receiver, allow_private):
    from prometheus_client import REGISTRY

    def sample(name, **labels):
        return REGISTRY.get_sample_value(name, labels) or 0.0

    before = (sample("platform_flow_runs_total", status="succeeded"), sample("platform_flow_runs_total", status="skipped"),
              sample("platform_flow_step_seconds_count", type="http"))
    doc = http_flow(receiver.url("/in"))
    doc["conditions"] = {"rules": [{"path": "$.go", "op": "==", "value": True}]}
    uw.post("/flows", doc)
    ran = run_to_end(services.flow_runs_for_event(event=event(uw, {"go": True, "id": "e1"}))[0])
    assert ran.status == "succeeded", ran.error
    services.flow_runs_for_event(event=event(uw, {"go": False}))
    after = (sample("platform_flow_runs_total", status="succeeded"), sample("platform_flow_runs_total", status="skipped"),
             sample("platform_flow_step_seconds_count", type="http"))
    assert [a - b for a, b in zip(after, before)] == [1, 1, 1]


def test_one_run_per_flow_and_event(studio, standin):
    studio.post("/flows", AUTO_TAG_FLOW)
    ev = event(studio, existing_entry(standin, studio.side.workspace_id, "bug"))
    first = services.flow_runs_for_event(event=ev)
    start_flows_for_event(ev)  # the registered processor, called again (redelivery, replayed webhook)
    assert FlowRun.objects.count() == 1 and first[0].pk == FlowRun.objects.get().pk


def test_processor_starts_only_enabled_flows_of_an_active_installation(studio, standin):
    flow = studio.post("/flows", AUTO_TAG_FLOW).json()
    payload = existing_entry(standin, studio.side.workspace_id, "bug")
    assert services.flow_runs_for_event(event=event(studio, payload, event_type="NEW_PROJECT")) == []
    studio.post(f"/flows/{flow['id']}/disable")
    assert services.flow_runs_for_event(event=event(studio, payload)) == []
    studio.post(f"/flows/{flow['id']}/enable")
    assert studio.side.update_settings({"enable_flows": False}).status_code == 200
    assert services.flow_runs_for_event(event=event(studio, payload)) == []
    assert studio.side.update_settings({"enable_flows": True}).status_code == 200
    assert studio.side.set_status("INACTIVE").status_code == 200
    assert services.flow_runs_for_event(event=event(studio, payload)) == []
    assert not FlowRun.objects.exists()


def test_runs_through_the_celery_task_with_retries(uw, receiver, allow_private, django_capture_on_commit_callbacks):
    uw.post("/flows", http_flow(receiver.url("/flaky/2"), max_attempts=3))
    celery_app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            [run] = services.flow_runs_for_event(event=event(uw, {"id": "te1"}))
    finally:
        celery_app.conf.task_always_eager = False
    run.refresh_from_db()
    assert run.status == "succeeded"
    [step] = steps_of(run)
    assert step.attempts == 3 and step.status_code == 200 and receiver.count("/flaky/2") == 3
    assert json.loads(receiver.requests[0].body) == {"entry": "te1", "ws": uw.side.workspace_id}


@pytest.mark.parametrize("path,attempts,sent,error", [
    ("/status/400", 3, 1, "HTTP 400"),  # 4xx: never retried
    ("/status/503", 2, 2, "gave up after 2 attempts"),
    ("/status/429", 2, 2, "HTTP 429"),
    ("/redirect?to=http://127.0.0.1:9/", 3, 1, "redirects are not followed"),
])
def test_failures_and_retry_policy(uw, receiver, allow_private, path, attempts, sent, error):
    uw.post("/flows", http_flow(receiver.url(path), max_attempts=attempts))
    [run] = services.flow_runs_for_event(event=event(uw, {"id": "te1"}))
    run = run_to_end(run)
    assert run.status == "failed" and error in run.error
    [step] = steps_of(run)
    assert step.attempts == sent and receiver.count(path.split("?")[0]) == sent and error in step.error


def test_clockify_5xx_is_retried_by_the_step(studio, standin):
    studio.post("/flows", flow_doc(conditions={}, actions=[AUTO_TAG_FLOW["actions"][0] | {"max_attempts": 4}]))
    standin.configure(fault_5xx_rate=1.0)
    [run] = services.flow_runs_for_event(event=event(studio, {"id": "x", "description": "bug"}))
    assert services.flow_run_execute(run_id=run.pk).retry_in is not None
    assert services.flow_run_execute(run_id=run.pk).retry_in is not None
    standin.configure(fault_5xx_rate=0.0)
    run = run_to_end(run)
    [step] = steps_of(run)
    assert run.status == "succeeded" and step.attempts == 3
    # The client sent each attempt once (its own retries are off for flow steps).
    assert standin.request_log.count("POST", "/tags") == 3


def test_missing_template_path_fails_the_step_and_sends_nothing(uw, receiver, allow_private):
    doc = http_flow(receiver.url("/in"))
    doc["actions"][0]["body"] = {"project": "{{event.project.name}}"}
    uw.post("/flows", doc)
    [run] = services.flow_runs_for_event(event=event(uw, {"id": "te1", "project": {"id": "p"}}))
    run = run_to_end(run)
    assert run.status == "failed" and "event.project.name" in run.error
    assert steps_of(run)[0].attempts == 0 and receiver.requests == []


def test_redelivery_never_resends_a_succeeded_step(studio, standin, monkeypatch):
    """Step 0 succeeds, step 1 fails transiently; later deliveries (and duplicates) skip step 0."""
    ws = studio.side.workspace_id
    studio.post("/flows", AUTO_TAG_FLOW)
    entry = existing_entry(standin, ws, "bug")
    [run] = services.flow_runs_for_event(event=event(studio, entry))
    standin.configure(fault_5xx_rate=0.0)
    # Make step 1 fail transiently: the stand-in answers 5xx after step 0 has gone through.
    original = services.execution.send_clockify
    calls = []

    def flaky_after_first(prepared, *, installation):
        calls.append(prepared.method)
        if len(calls) == 2:
            standin.configure(fault_5xx_rate=1.0)
        outcome = original(prepared, installation=installation)
        standin.configure(fault_5xx_rate=0.0)
        return outcome

    monkeypatch.setattr(services.execution, "send_clockify", flaky_after_first)
    assert services.flow_run_execute(run_id=run.pk).retry_in is not None
    # The next delivery continues where the run stopped; it does not restart.
    run = run_to_end(run)
    assert run.status == "succeeded"
    assert calls == ["POST", "PUT", "PUT"]
    assert standin.request_log.count("POST", "/tags") == 1
    assert services.flow_run_execute(run_id=run.pk).status == "succeeded"  # finished: nothing more is sent
    assert standin.request_log.count("POST", "/tags") == 1


@pytest.mark.parametrize("method,resent", [("POST", False), ("PUT", True)])
def test_a_step_caught_in_flight_is_resent_only_when_idempotent(uw, receiver, allow_private, method, resent):
    uw.post("/flows", http_flow(receiver.url("/in"), method=method))
    [run] = services.flow_runs_for_event(event=event(uw, {"id": "te1"}))
    # What a worker killed mid-request leaves behind: the step marked sending, the lease expired.
    FlowRunStep.objects.create(run=run, index=0, action_type="http", status=StepStatus.SENDING, attempts=1)
    FlowRun.objects.filter(pk=run.pk).update(status="running", lease_token="dead", lease_until=timezone.now())
    run = run_to_end(run)
    [step] = steps_of(run)
    if resent:
        assert run.status == "succeeded" and step.attempts == 2 and receiver.count("/in") == 1
    else:
        assert run.status == "failed" and "outcome unknown" in step.error and receiver.requests == []


def test_a_held_lease_defers_a_second_delivery(uw, receiver, allow_private):
    uw.post("/flows", http_flow(receiver.url("/in")))
    [run] = services.flow_runs_for_event(event=event(uw, {"id": "te1"}))
    FlowRun.objects.filter(pk=run.pk).update(lease_token="other", lease_until=timezone.now() + timedelta(seconds=5))
    outcome = services.flow_run_execute(run_id=run.pk)
    assert outcome.retry_in is not None and 4 < outcome.retry_in < 6
    assert receiver.requests == [] and not FlowRunStep.objects.exists()


def test_run_time_bound(uw, receiver, allow_private):
    uw.post("/flows", http_flow(receiver.url("/in")))
    [run] = services.flow_runs_for_event(event=event(uw, {"id": "te1"}))
    FlowRun.objects.filter(pk=run.pk).update(deadline_at=timezone.now() - timedelta(seconds=1))
    run = run_to_end(run)
    assert run.status == "failed" and "time bound" in run.error and receiver.requests == []


def test_replay_from_the_failed_step_and_from_the_start(studio, standin):
    ws = studio.side.workspace_id
    doc = flow_doc()
    doc["actions"][1]["params"] = {"id": "000000000000000000000404"}  # a time entry that does not exist
    flow = studio.post("/flows", doc).json()
    entry = existing_entry(standin, ws, "bug")
    [run] = services.flow_runs_for_event(event=event(studio, entry))
    run = run_to_end(run)
    assert run.status == "failed" and [s.status for s in steps_of(run)] == ["succeeded", "failed"]
    assert steps_of(run)[1].status_code == 404

    # Changing a step before the failed one makes "from the failed step" unsound.
    changed = flow_doc()
    changed["actions"][0]["body"] = {"name": "bug2"}
    studio.put(f"/flows/{flow['id']}", changed)
    r = studio.post(f"/runs/{run.public_id}/replay", {"from": "failed"})
    assert r.status_code == 409 and "replay from the start" in r.json()["detail"]

    studio.put(f"/flows/{flow['id']}", flow_doc())  # the fix: step 1 now uses the event's entry
    r = studio.post(f"/runs/{run.public_id}/replay", {"from": "failed"})
    assert r.status_code == 202, r.content
    replay = FlowRun.objects.get(public_id=r.json()["id"])
    assert replay.replay_of == run and replay.replay_from_step == 1
    replay = run_to_end(replay)
    assert replay.status == "succeeded"
    kept, redone = steps_of(replay)
    assert kept.copied_from_run == run.public_id and kept.attempts == 1
    assert standin.request_log.count("POST", "/tags") == 1  # step 0 was not sent again
    tag_id = kept.response["id"]
    assert standin.workspace(ws).entities["time-entries"][entry["id"]]["tagIds"] == [tag_id]

    assert studio.post(f"/runs/{replay.public_id}/replay", {"from": "failed"}).status_code == 409  # succeeded
    r = studio.post(f"/runs/{replay.public_id}/replay", {"from": "start"})
    assert r.status_code == 202
    again = run_to_end(FlowRun.objects.get(public_id=r.json()["id"]))
    # From the start, step 0 is sent again: the stand-in refuses the duplicate tag name.
    assert again.status == "failed" and steps_of(again)[0].status_code == 400
    assert standin.request_log.count("POST", "/tags") == 2

    detail = studio.get(f"/runs/{replay.public_id}").json()
    assert [s["status"] for s in detail["steps"]] == ["succeeded", "succeeded"]
    assert detail["replay_of"] == run.public_id and detail["conditions_result"]["matched"] is True
    listed = studio.get(f"/flows/{flow['id']}/runs?status=failed").json()
    assert {r["id"] for r in listed["results"]} == {run.public_id, again.public_id}
    assert studio.get("/runs?status=bogus").status_code == 400
    r = studio.post(f"/runs/{run.public_id}/replay", {"from": "middle"})
    assert r.status_code == 400 and "from" in r.json()


def test_test_run_shows_exact_requests_and_sends_nothing(studio, standin):
    ws = studio.side.workspace_id
    flow = studio.post("/flows", AUTO_TAG_FLOW).json()
    entry = existing_entry(standin, ws, "a bug")
    sent_before = len(standin.request_log)
    r = studio.post(f"/flows/{flow['id']}/test-run", {"event": entry, "event_type": "NEW_TIME_ENTRY"})
    assert r.status_code == 200, r.content
    result = r.json()
    assert result["would_run"] is True and result["sent"] is False and result["trigger_matched"] is True
    assert result["conditions"]["rules"][0] == {"path": "$.description", "op": "contains", "value": "bug",
                                                "found": True, "actual": "a bug", "matched": True}
    create, update = result["requests"]
    assert create == {"step": 0, "type": "clockify", "method": "POST", "operation": "createNewTag",
                      "url": f"{standin.backend_url}/v1/workspaces/{ws}/tags", "body": {"name": "bug"}}
    assert update["url"].endswith(f"/time-entries/{entry['id']}")
    assert update["body"]["tagIds"] == ["<steps[0].response.id>"]
    assert update["body"]["start"] == entry["timeInterval"]["start"]
    assert len(standin.request_log) == sent_before and not FlowRun.objects.exists()

    # An unsaved flow; a missing path shows up as that step's error.
    draft = flow_doc(actions=[{"type": "clockify", "operation": "createNewTag", "body": {"name": "{{event.nope}}"}}])
    r = studio.post("/flows/test-run", {"flow": draft, "event": {"description": "docs"}})
    assert r.json()["would_run"] is False and "event.nope" in r.json()["requests"][0]["error"]
    r = studio.post("/flows/test-run", {"flow": flow_doc(actions=[]), "event": {}})
    assert r.status_code == 400 and "flow.actions" in r.json()
    assert studio.post("/flows/test-run", {"flow": AUTO_TAG_FLOW}).status_code == 400  # no event
    assert len(standin.request_log) == sent_before and Flow.objects.count() == 1


def test_signed_http_action(uw, receiver, allow_private):
    doc = http_flow(receiver.url("/signed"), sign=True, headers={"Authorization": "Bearer partner-secret"})
    flow = uw.post("/flows", doc).json()
    [run] = services.flow_runs_for_event(event=event(uw, {"id": "te9"}))
    assert run_to_end(run).status == "succeeded"
    got = receiver.requests[0]
    secret = uw.get(f"/flows/{flow['id']}/signing-secret").json()["signing_secret"]
    key = base64.b64decode(secret[len("whsec_"):])
    signed = f"{got.headers['webhook-id']}.{got.headers['webhook-timestamp']}.".encode() + got.body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert got.headers["webhook-signature"] == f"v1,{expected}"
    assert got.headers["webhook-id"] == f"{run.public_id}.0" == got.headers["Idempotency-Key"]
    assert got.headers["Authorization"] == "Bearer partner-secret"
    stored = steps_of(run)[0].request
    assert stored["headers"]["Authorization"] == "[redacted]" and "partner-secret" not in json.dumps(stored)


def test_http_actions_stop_when_the_setting_is_turned_off(uw, receiver, allow_private):
    uw.post("/flows", http_flow(receiver.url("/in")))
    assert uw.side.update_settings({"enable_generic_http_actions": False}).status_code == 200
    [run] = services.flow_runs_for_event(event=event(uw, {"id": "te1"}))
    run = run_to_end(run)
    assert run.status == "failed" and "enable_generic_http_actions" in run.error and receiver.requests == []


def test_http_action_to_loopback_fails_without_the_escape_hatch(uw, receiver, settings):
    uw.post("/flows", http_flow("https://hooks.example.com/in"))
    Flow.objects.update(actions=[{"type": "http", "method": "POST", "url": receiver.url("/in")}])
    settings.FLOW_HTTP_ALLOW_PRIVATE_NETWORKS = False
    [run] = services.flow_runs_for_event(event=event(uw, {"id": "te1"}))
    run = run_to_end(run)
    assert run.status == "failed" and "loopback" in run.error and receiver.requests == []
    assert steps_of(run)[0].attempts == 1  # refused, not retried


def test_retention_purges_old_runs_per_installation(install, receiver, allow_private):
    short = install("universal-webhook", settings={"enable_generic_http_actions": True,
                                                   "flow_execution_retention_days": 1})
    default = install("universal-webhook", settings={"enable_generic_http_actions": True})
    for api in (short, default):
        api.post("/flows", http_flow(receiver.url("/in")))
        for _ in range(2):
            run_to_end(services.flow_runs_for_event(event=event(api, {"id": "x"}))[0])
    old = timezone.now() - timedelta(days=3)
    FlowRun.objects.update(created_at=old)
    fresh = services.flow_runs_for_event(event=event(short, {"id": "y"}))[0]
    assert services.flow_runs_purge() == 2
    assert not FlowRun.objects.filter(installation=installation_of(short), created_at=old).exists()
    assert FlowRun.objects.filter(installation=installation_of(default)).count() == 2  # 30 days by default
    assert FlowRun.objects.filter(pk=fresh.pk).exists()


def test_cache_templates_read_this_installations_entity_cache(uw, install, receiver, allow_private):
    from bootstrap.services.cache import cached_entities_upsert

    project = {"id": "p1", "name": "Apollo", "client": {"name": "ACME"}}
    cached_entities_upsert(installation=installation_of(uw), entity_type="projects", items=[project])
    other = install("universal-webhook", settings={"enable_generic_http_actions": True})
    cached_entities_upsert(installation=installation_of(other), entity_type="projects",
                           items=[{"id": "p2", "name": "Other tenant"}])
    doc = http_flow(receiver.url("/in"))
    doc["actions"][0]["body"] = {"project": "{{cache.projects[event.projectId].name}}",
                                 "client": "{{cache.projects.p1.client.name}}"}
    uw.post("/flows", doc)
    run = run_to_end(services.flow_runs_for_event(event=event(uw, {"id": "a", "projectId": "p1"}))[0])
    assert run.status == "succeeded" and json.loads(receiver.requests[0].body) == {"project": "Apollo",
                                                                                  "client": "ACME"}
    # Another installation's cached entity is not found: the step fails naming the path.
    run = run_to_end(services.flow_runs_for_event(event=event(uw, {"id": "b", "projectId": "p2"}))[0])
    assert run.status == "failed" and "cache.projects.p2.name" in run.error and len(receiver.requests) == 1


def test_event_data_cannot_inject_headers(uw, receiver, allow_private):
    doc = http_flow(receiver.url("/in"), headers={"X-Entry": "{{event.id}}"})
    uw.post("/flows", doc)
    run = run_to_end(services.flow_runs_for_event(event=event(uw, {"id": "x\r\nX-Admin: yes"}))[0])
    assert run.status == "failed" and "line break" in run.error and receiver.requests == []

