"""schemathesis against the platform's own OpenAPI schema for ``/<variant>/api/v1/`` (issue 9, item 6).

The schema is read from the running app (drf-spectacular, ``/<variant>/api/v1/schema``); every
operation gets schema-conforming and schema-violating requests, in process through the WSGI app,
with a valid OWNER user token of a live installation whose Clockify is the local stand-in.
Properties: no 5xx, ever, and a refused request (4xx) stores nothing. Some requests use the ids of a real flow and run, so that they reach
past the 404s into the handlers.
"""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from tests.fuzz.strategies import db_snapshot

# Real transactions: a request that fails in the database must not poison the ones after it.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(600)]

EXAMPLES = {GenerationMode.POSITIVE: 15, GenerationMode.NEGATIVE: 10}
FLOW = {
    "name": "fuzz target",
    "trigger": {"events": ["NEW_TIME_ENTRY"]},
    "conditions": {"mode": "all", "rules": [{"path": "$.id", "op": "exists"}]},
    "actions": [{"type": "clockify", "operation": "getTags", "query": {"name": "{{event.id}}"}}],
}


@pytest.fixture
def wsgi_app():
    """The project's WSGI app, minus closing the database connection around each request (as
    Django's test client does): the test's transaction lives on that connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def live(make_workspace, standin, client):
    """A universal-webhook installation talking to the stand-in, with one flow."""
    ws = make_workspace("universal-webhook")
    ws.minter.backend_url = standin.backend_url
    standin.seed_workspace(ws.workspace_id, size=20)
    assert ws.lifecycle(client, "INSTALLED").status_code == 200
    token = ws.minter.user_token(role="OWNER")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    created = client.post(f"/{ws.variant.slug}/api/v1/flows", FLOW, content_type="application/json", **auth)
    assert created.status_code == 201, created.content
    flow_id = created.json()["id"]
    return {"ws": ws, "token": token, "flow_id": flow_id}


def test_api_v1_never_answers_5xx(live, wsgi_app):
    ws = live["ws"]
    schema = schemathesis.openapi.from_wsgi(f"/{ws.variant.slug}/api/v1/schema", wsgi_app)
    headers = {"Authorization": f"Bearer {live['token']}"}
    fixed = {"variant": ws.variant.slug}
    real_ids = {"flow_id": live["flow_id"]}
    failures: list[str] = []
    statuses: Counter = Counter()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10, [op.label for op in operations]

    for operation in operations:
        names = {p.name for p in operation.path_parameters}
        for mode, examples in EXAMPLES.items():
            strategies = [operation.as_strategy(generation_mode=mode, path_parameters=fixed, headers=headers)]
            real = {k: v for k, v in real_ids.items() if k in names}
            if real:
                strategies.append(operation.as_strategy(generation_mode=mode, headers=headers,
                                                        path_parameters={**fixed, **real}))

            @given(case=st.one_of(strategies))
            @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            def run(case):
                before = db_snapshot()
                response = case.call_and_validate(checks=[not_a_server_error])
                statuses[response.status_code // 100 * 100] += 1
                if response.status_code >= 400:  # a refused request leaves no trace
                    assert db_snapshot() == before, f"{case.method} {case.path}: refused but stored"

            try:
                run()
            except Unsatisfiable:  # negative mode, nothing to violate (only fixed path parameters)
                continue
            except (Exception, BaseExceptionGroup) as exc:  # collect every operation's failure, report them all
                failures.append(f"{operation.label} ({mode.value}): {type(exc).__name__}: {str(exc)[:600]}")

    assert not failures, "\n\n".join(failures)
    # The token works (requests reach the handlers: many 2xx), and bad input is answered 4xx.
    assert statuses[200] >= len(operations) and statuses[400] > 0, statuses
    # The installation is still usable afterwards: nothing the fuzzer sent broke it.
    listed = Client().get(f"/{ws.variant.slug}/api/v1/flows", HTTP_AUTHORIZATION=f"Bearer {live['token']}")
    assert listed.status_code == 200


@pytest.mark.parametrize("path", [
    "flows/%00x", "flows/%00x/runs", "runs/%00x", "runs?flow=%00x", "explorer/operations/%00x",
    "explorer/calls?operation=%00x",
])
def test_ids_with_nul_bytes_are_not_found_not_500(live, path):
    """PostgreSQL text cannot hold NUL: an id carrying one must be refused before the query."""
    response = Client(raise_request_exception=False).get(
        f"/{live['ws'].variant.slug}/api/v1/{path}", HTTP_AUTHORIZATION=f"Bearer {live['token']}")
    assert response.status_code in (400, 404), response.status_code
