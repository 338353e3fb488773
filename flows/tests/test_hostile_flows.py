"""Hostile flows (issue 15, item 1): JSONPath extensions that run code or regexes are refused when
a flow is saved or test-run, a stored one can never stall evaluation, every regex is time-bounded
and the conditions of one event have one overall time budget."""

from __future__ import annotations

import pytest

from flows import conditions as cond
from flows import templates
from flows.models import Flow, FlowRun
from flows.tests.helpers import flow_doc

pytestmark = pytest.mark.django_db

SLOW_SUBJECT = "a" * 40 + "b"  # (a|aa)+$ backtracks for minutes on this with Python's re

HOSTILE_PATHS = [
    ("$.description.`sub(/(a|aa)+$/, x)`", "sub"),
    ("$.tags[?(@.name =~ '(a|aa)+$')]", "=~"),
    ("$.description.`split(a, 0, -1)`", "split"),
    ("$.description.`str()`", "str"),
    ("$.tags.`len`", "len"),
    ("$.hourlyRate.`keys`", "keys"),
    ("$.tags[/name]", "sort"),
    ("$.duration * 2", "arithmetic"),
    ("$.a | $.b", "union"),
    ("$.a & $.b", "intersection"),
    ("$.tags.`parent`", "parent"),
    ("$.tags where name", "where"),
    ("$..tags..name", ".."),
]


def _rule(path: str) -> dict:
    return {"mode": "all", "rules": [{"path": "$.id", "op": "exists"}, {"path": path, "op": "exists"}]}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("path,word", HOSTILE_PATHS, ids=[w for _, w in HOSTILE_PATHS])
def test_draft_test_run_with_an_extension_path_is_400_naming_the_rule(studio, path, word):
    event = {"id": "te1", "description": SLOW_SUBJECT, "tags": [{"name": SLOW_SUBJECT}]}
    response = studio.post("/flows/test-run", {"flow": flow_doc(conditions=_rule(path)), "event": event})
    assert response.status_code == 400, response.content
    message = response.json()["flow.conditions.rules[1].path"][0]
    assert word in message and "plain JSONPath" in message, message


@pytest.mark.timeout(60)
@pytest.mark.parametrize("path,word", HOSTILE_PATHS[:3], ids=[w for _, w in HOSTILE_PATHS[:3]])
def test_saving_a_flow_with_an_extension_path_is_400_and_stores_nothing(studio, path, word):
    response = studio.post("/flows", flow_doc(conditions=_rule(path)))
    assert response.status_code == 400, response.content
    assert word in response.json()["conditions.rules[1].path"][0]
    assert not Flow.objects.exists()
    created = studio.post("/flows", flow_doc()).json()
    response = studio.patch(f"/flows/{created['id']}", {"conditions": _rule(path)})
    assert response.status_code == 400
    assert Flow.objects.get().version == 1


@pytest.mark.parametrize("path", [
    "$.projectId", "$['projectId']", "$.tagIds[0]", "$.tagIds[-1]", "$.tagIds[0:2]", "$.tagIds[*]", "$.*",
    "$..name", "$.tags[?(@.name == 'a')].name", "$.tags[?(@.n >= 2 && @.name != 'b')]", "$['a','b']",
])
def test_plain_jsonpath_is_accepted(path):
    assert cond.validate_rule({"path": path, "op": "exists"}) == {}


@pytest.mark.timeout(60)
def test_a_stored_flow_with_an_extension_path_cannot_stall_evaluation(studio):
    """Flows saved before the check still run: the path is refused at evaluation, the rule fails."""
    created = studio.post("/flows", flow_doc()).json()
    Flow.objects.filter(public_id=created["id"]).update(conditions=_rule(HOSTILE_PATHS[0][0]))
    result = cond.evaluate(Flow.objects.get().conditions, {"id": "te1", "description": SLOW_SUBJECT})
    assert result.matched is False
    assert "plain JSONPath" in result.rules[1].error


@pytest.mark.timeout(60)
def test_test_run_of_a_saved_hostile_regex_flow_is_bounded(studio, settings):
    """``matches`` takes a regex by design: each match has a timeout and all rules share one budget."""
    settings.FLOW_CONDITIONS_TIME_BUDGET_SECONDS = 0.2
    rules = [{"path": "$.description", "op": "matches", "value": "(a|aa)+$"} for _ in range(50)]
    created = studio.post("/flows", flow_doc(conditions={"mode": "any", "rules": rules}))
    assert created.status_code == 201, created.content
    response = studio.post(f"/flows/{created.json()['id']}/test-run",
                           {"event": {"id": "te1", "description": "a" * 5000 + "b"}})
    assert response.status_code == 200
    outcome = response.json()["conditions"]
    assert outcome["matched"] is False
    errors = [rule.get("error", "") for rule in outcome["rules"]]
    assert all(errors), errors
    # The budget ran out long before the 50 rules' 50 ms timeouts: the rest were not evaluated.
    assert sum("time budget" in e for e in errors) > 25, errors


def test_the_budget_is_shared_by_every_flow_an_event_triggers(settings):
    settings.FLOW_CONDITIONS_TIME_BUDGET_SECONDS = 0.1
    hostile = {"rules": [{"path": "$.t", "op": "matches", "value": "(a|aa)+$"}] * 5}
    budget = cond.Budget.start()
    first = cond.evaluate(hostile, {"t": "a" * 5000 + "b"}, budget=budget)
    second = cond.evaluate({"rules": [{"path": "$.t", "op": "exists"}]}, {"t": "x"}, budget=budget)
    assert any("longer than" in r.error for r in first.rules)
    assert second.matched is False and "time budget" in second.rules[0].error


@pytest.mark.timeout(60)
def test_templates_full_of_braces_are_refused_without_backtracking(studio):
    """The template scanner is linear: a body of 200,000 ``{{`` is refused at once, not after minutes."""
    doc = flow_doc(actions=[{"type": "clockify", "operation": "createNewTag", "body": {"name": "{{" * 200_000}}])
    response = studio.post("/flows", doc)
    assert response.status_code == 400 and "unbalanced" in response.json()["actions[0].body"][0]
    with pytest.raises(templates.TemplateError):
        templates.render_string("{{" * 200_000 + "event.id}}", templates.Context(event={}, installation={}))
    assert not FlowRun.objects.exists()
