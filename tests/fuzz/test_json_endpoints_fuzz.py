"""Hostile JSON on every JSON endpoint behind the pages (issue 15): the DRF API, test-runs, explorer
execute, and the pages' XHRs, with an OWNER's valid token (the most an attacker inside a workspace
holds) and a member's for explorer execute.

Bodies: structurally valid documents with one field replaced by deep nesting, NUL or lone
surrogates, numbers Python or PostgreSQL cannot hold, invalid UTF-8, regex-bearing JSONPaths and
catastrophic regexes in flow conditions, brace-filled templates; and bare hostile documents.
Properties: no response >= 500; a refused request (4xx) changes nothing in any table.
"""

from __future__ import annotations

from collections import Counter

import pytest
from django.test import Client
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from django.utils import timezone

from flows.models import Flow, FlowRun
from tests.fuzz.strategies import db_snapshot, hostile_json, hostile_rule, hostile_text

pytestmark = [pytest.mark.django_db, pytest.mark.timeout(600)]

FUZZ = settings(max_examples=250, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large, HealthCheck.filter_too_much])
FLOW = {"name": "fuzz", "trigger": {"events": ["NEW_TIME_ENTRY"]},
        "conditions": {"mode": "all", "rules": [{"path": "$.id", "op": "exists"}]},
        "actions": [{"type": "clockify", "operation": "getTags", "query": {"name": "{{event.id}}"}}]}
EVENT = {"id": "te1", "description": "a" * 5000 + "b", "tags": [{"name": "a"}]}


@pytest.fixture
def world(clockify_side, standin, client, settings):
    settings.FLOW_CONDITIONS_TIME_BUDGET_SECONDS = 0.05  # keeps a regex-heavy example short
    side = clockify_side("universal-webhook", platform=client, standin=standin, seed_size=10)
    assert side.install().status_code == 200
    assert side.update_settings({"enable_generic_http_actions": True}).status_code == 200
    owner = {"HTTP_AUTHORIZATION": f"Bearer {side.user_token('OWNER')}"}
    member = {"HTTP_AUTHORIZATION": f"Bearer {side.user_token('USER')}"}
    flow_id = client.post(f"/{side.variant_slug}/api/v1/flows", FLOW, content_type="application/json",
                          **owner).json()["id"]
    source_id = client.post(f"/{side.variant_slug}/ui/sources/create", {"name": "fuzz"},
                            content_type="application/json", **owner).json()["id"]
    flow = Flow.objects.get(public_id=flow_id)
    run = FlowRun.objects.create(flow=flow, installation=flow.installation, flow_version=1, definition=FLOW,
                                 event_type="NEW_TIME_ENTRY", event_payload=EVENT, status="failed",
                                 deadline_at=timezone.now())  # a failed run to replay
    api, ui = f"/{side.variant_slug}/api/v1", f"/{side.variant_slug}/ui"
    endpoints = [
        # (method, url, a valid body, headers)
        ("POST", f"{api}/flows", FLOW, owner),
        ("PUT", f"{api}/flows/{flow_id}", FLOW, owner),
        ("PATCH", f"{api}/flows/{flow_id}", {"conditions": FLOW["conditions"]}, owner),
        ("POST", f"{api}/flows/test-run", {"flow": FLOW, "event": EVENT, "event_type": "NEW_TIME_ENTRY"}, owner),
        ("POST", f"{api}/flows/{flow_id}/test-run", {"event": EVENT}, owner),
        ("POST", f"{api}/runs/{run.public_id}/replay", {"from": "start"}, owner),
        ("POST", f"{api}/explorer/execute", {"operation": "getTags", "query": {"name": "x"}}, member),
        ("POST", f"{api}/explorer/execute", {"operation": "createNewTag", "body": {"name": "x"}, "confirm": True},
         owner),
        ("POST", f"{api}/explorer/save-as-flow-action", {"operation": "getTags", "flow_id": flow_id}, owner),
        ("POST", f"{api}/bootstrap", {"fresh": False}, owner),
        ("POST", f"{ui}/sources/create", {"name": "fuzzed"}, owner),
        ("POST", f"{ui}/sources/{source_id}/rotate", {}, owner),
        ("POST", f"{ui}/dashboard/bootstrap/run", {}, owner),
    ]
    return {"endpoints": endpoints}


def _flow_with(rules: list[dict], template: str) -> dict:
    return {**FLOW, "conditions": {"mode": "any", "rules": rules},
            "actions": [{"type": "clockify", "operation": "createNewTag", "body": {"name": template}}]}


def _bodies(endpoint: tuple) -> st.SearchStrategy[bytes]:
    method, url, valid, _ = endpoint
    import json

    hostile_flows = st.builds(_flow_with, st.lists(hostile_rule(), min_size=1, max_size=4), hostile_text)
    if url.endswith("/test-run") and "flow" in valid:
        flows = hostile_flows.map(lambda f: json.dumps({**valid, "flow": f}).encode())
    elif url.endswith(("/flows", "/test-run")) or method in ("PUT", "PATCH"):
        flows = hostile_flows.map(lambda f: json.dumps(f).encode())
    else:
        flows = st.nothing()
    return st.one_of(hostile_json(valid), flows)


def test_json_endpoints_never_5xx_and_refusals_store_nothing(world):
    statuses: Counter = Counter()

    @given(data=st.data())
    @FUZZ
    def send(data):
        endpoint = data.draw(st.sampled_from(world["endpoints"]), label="endpoint")
        method, url, _, headers = endpoint
        body = data.draw(_bodies(endpoint), label="body")
        before = db_snapshot()
        response = Client(raise_request_exception=False).generic(method, url, body,
                                                                 content_type="application/json", **headers)
        event(f"{method} {url.split('/', 2)[2][:40]} -> {response.status_code}")
        statuses[response.status_code // 100 * 100] += 1
        assert response.status_code < 500, (method, url, body[:200], response.content[:300])
        if response.status_code >= 400:
            assert db_snapshot() == before, f"a refused {method} {url} ({response.status_code}) changed the database"

    send()
    # The strategies reach past the parser too: refusals and requests the handlers accept.
    assert statuses[400] > 50 and statuses[200] > 5, statuses
