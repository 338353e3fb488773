"""Templates: whole values keep their JSON type, interpolation, missing paths, no code execution."""

import pytest

from flows.templates import Context, Placeholder, StepOutput, TemplateError, find_exprs, render

EVENT = {
    "id": "te1",
    "description": "Fix bug",
    "duration": 3600,
    "billable": False,
    "tagIds": ["t1", "t2"],
    "project": {"id": "p1", "name": "Apollo"},
    "nothing": None,
    "odd key": {"x": 1},
}
CACHE = {("projects", "p1"): {"id": "p1", "name": "Apollo", "client": {"name": "ACME"}}}


def ctx(**kwargs):
    base = dict(
        event=EVENT,
        installation={"workspaceId": "ws1", "addonId": "a1"},
        cache_lookup=lambda t, i: CACHE.get((t, i)),
        steps=[StepOutput(201, {"id": "tag9", "ids": [1, 2], "n": 0}), StepOutput(204, None)],
    )
    base.update(kwargs)
    return Context(**base)


@pytest.mark.parametrize("template,expected", [
    ("{{event.duration}}", 3600),
    ("{{ event.duration }}", 3600),
    ("{{event.billable}}", False),
    ("{{event.tagIds}}", ["t1", "t2"]),
    ("{{event.tagIds[1]}}", "t2"),
    ("{{event.project}}", {"id": "p1", "name": "Apollo"}),
    ("{{event.nothing}}", None),
    ('{{event["odd key"].x}}', 1),
    ("{{installation.workspaceId}}", "ws1"),
    ("{{steps[0].response.id}}", "tag9"),
    ("{{steps[0].response.ids}}", [1, 2]),
    ("{{steps[0].response.n}}", 0),
    ("{{steps[0].status}}", 201),
    ("{{steps[1].status}}", 204),
    ("{{cache.projects.p1.client.name}}", "ACME"),
    ("{{cache.projects[event.project.id].name}}", "Apollo"),
])
def test_whole_value_keeps_json_type(template, expected):
    assert render(template, ctx()) == expected


def test_interpolation_and_nested_structures():
    body = {
        "name": "{{event.project.name}} / {{event.description}}",
        "note": "took {{event.duration}}s, billable={{event.billable}}, tags={{event.tagIds}}, n={{event.nothing}}",
        "tagIds": ["{{steps[0].response.id}}", "fixed"],
        "count": 3,
        "keys {{event.id}}": "keys are not templates",
    }
    assert render(body, ctx()) == {
        "name": "Apollo / Fix bug",
        "note": 'took 3600s, billable=false, tags=["t1","t2"], n=null',
        "tagIds": ["tag9", "fixed"],
        "count": 3,
        "keys {{event.id}}": "keys are not templates",
    }


@pytest.mark.parametrize("template,named", [
    ("{{event.project.client}}", "event.project.client"),
    ("{{event.tagIds[5]}}", "event.tagIds[5]"),
    ("x {{event.nope.deeper}} y", "event.nope.deeper"),
    ("{{steps[0].response.missing}}", "steps[0].response.missing"),
    ("{{cache.projects.p1.budget}}", "cache.projects.p1.budget"),
    ("{{cache.projects.p404.name}}", "cache.projects.p404.name"),
])
def test_missing_path_is_an_error_naming_the_path(template, named):
    with pytest.raises(TemplateError) as info:
        render(template, ctx())
    assert named in str(info.value)


def test_a_step_that_has_not_run_is_an_error_unless_previewing():
    with pytest.raises(TemplateError, match="steps\\[2\\]"):
        render("{{steps[2].response.id}}", ctx())
    value = render("{{steps[2].response.id}}", ctx(preview=True))
    assert isinstance(value, Placeholder) and value == "<steps[2].response.id>"


@pytest.mark.parametrize("template", [
    "{{__import__('os').system('id')}}",
    "{{ event.description.upper() }}",
    "{{installation.token}}",
    "{{installation}}",
    "{{steps.0.response}}",
    "{{steps[0]}}",
    "{{steps[0].status.code}}",
    "{{cache.projects}}",
    "{{}}",
    "{{event.x",
    "event.x}}",
])
def test_no_code_execution_only_the_grammar(template):
    with pytest.raises(TemplateError):
        find_exprs(template)
    with pytest.raises(TemplateError):
        render(template, ctx())


def test_paths_walk_json_only_never_python_attributes():
    # "__class__" is just a key that the event does not have.
    with pytest.raises(TemplateError, match="event.__class__"):
        render("{{event.__class__}}", ctx())
    with pytest.raises(TemplateError, match="event.description.upper"):
        render("{{event.description.upper}}", ctx())


def test_find_exprs_collects_every_template():
    exprs = find_exprs({"a": ["{{event.id}}", {"b": "x {{steps[3].response.id}} {{installation.workspaceId}}"}]})
    assert [(e.root, e.step) for e in exprs] == [("event", None), ("steps", 3), ("installation", None)]


def test_secrets_resolve_once_are_remembered_and_preview_as_placeholders():
    secrets = {"API_TOKEN": "tok-123456789"}
    context = ctx(secret_lookup=secrets.get)
    assert render({"h": "Bearer {{secrets.API_TOKEN}}", "whole": "{{secrets.API_TOKEN}}"}, context) == {
        "h": "Bearer tok-123456789", "whole": "tok-123456789"}
    assert context.used_secrets == {"API_TOKEN": "tok-123456789"}  # so that run records can mask them
    with pytest.raises(TemplateError, match="secrets.OTHER is not set"):
        render("{{secrets.OTHER}}", context)
    preview = ctx(preview=True, secret_lookup=secrets.get)
    assert render("{{secrets.API_TOKEN}}", preview) == "<secrets.API_TOKEN>" and not preview.used_secrets


@pytest.mark.parametrize("template", ["{{secrets}}", "{{secrets.a.b}}", "{{secrets[0]}}", "{{secrets.1abc}}",
                                      '{{secrets["A B"]}}'])
def test_secret_references_are_one_plain_name(template):
    with pytest.raises(TemplateError):
        find_exprs(template)
