"""The catalogue: the bundled document, Clockify's published one, $refs, search, sync and cache."""

from __future__ import annotations

import json
import os

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from explorer.catalog import (
    BUNDLED_SOURCE, Catalog, CatalogError, bundled_catalog, compile_document, get_catalog, parse_document,
)
from explorer.models import OpenAPIDocument
from explorer.tests.conftest import OFFICIAL_DOC

needs_official = pytest.mark.skipif(not os.path.exists(OFFICIAL_DOC), reason="../shared/clockify absent")


def _catalog_of(document: dict) -> Catalog:
    return Catalog.from_compiled(compile_document(document))


def test_bundled_catalogue_covers_the_core_endpoints():
    catalog = bundled_catalog()
    for op_id in ("getLoggedUser", "getWorkspacesOfUser", "getUsersOfWorkspace", "getClients", "getProjects",
                  "getTasks", "getTags", "ofWorkspace", "getUserGroups", "getTimeEntries", "getTimeEntry",
                  "createTimeEntry", "updateTimeEntry", "deleteTimeEntry", "findPoliciesForWorkspace",
                  "generateSummaryReport"):
        assert catalog.get(op_id) is not None, op_id
    assert catalog.get("generateSummaryReport").host == "reports"
    assert catalog.get("getProjects").host == "backend"
    assert catalog.get("getProjects").is_read_only and not catalog.get("createNewProject").is_read_only
    # Path-level $ref parameters are merged into each operation.
    names = [(p.name, p.location) for p in catalog.get("getTimeEntries").parameters]
    assert ("workspaceId", "path") in names and ("userId", "path") in names and ("page-size", "query") in names
    page_size = catalog.get("getTimeEntries").parameter("page-size", "query")
    assert (page_size.type, page_size.default, page_size.minimum) == ("integer", 50, 1)
    # Request body schema resolved, with an example synthesised from the schema's own examples.
    body = catalog.get("createNewProject").request_body_schema
    assert body["required"] == ["name"] and body["properties"]["tasks"]["items"]["properties"]["name"]
    assert catalog.get("createNewProject").examples["body"]["name"] == "Website"


@needs_official
def test_official_document_indexes_every_operation():
    raw = open(OFFICIAL_DOC, "rb").read()
    catalog = Catalog.from_compiled(compile_document(parse_document(raw)))
    assert len(catalog) == 158
    assert sum(op.is_read_only for op in catalog.operations) == 47
    assert len({op.operation_id for op in catalog.operations}) == 158
    # Reports live on their own server in Clockify's document.
    assert catalog.get("generateDetailedReport").host == "reports"
    assert catalog.get("getSharedReportsV1").host == "reports"
    assert catalog.get("getProjects").host == "backend"
    assert sum(op.host == "reports" for op in catalog.operations) == 10
    # Lookups by id and by "METHOD /path" (trailing slash and method case forgiven).
    assert catalog.resolve("getTimeEntries").path == "/v1/workspaces/{workspaceId}/user/{userId}/time-entries"
    assert catalog.resolve("get /v1/workspaces/{workspaceId}/projects/").operation_id == "getProjects"
    assert catalog.resolve("POST /v1/nowhere") is None and catalog.resolve("") is None
    # Enums, required flags and resolved body schemas.
    sort_order = catalog.get("getProjects").parameter("sort-order", "query")
    assert sort_order.enum == ("ASCENDING", "DESCENDING") and not sort_order.required
    create = catalog.resolve("POST /v1/workspaces/{workspaceId}/projects")
    assert create.request_body_required and "$ref" not in json.dumps(create.request_body_schema)[:200]
    assert create.request_body_schema["properties"]["name"]["type"] == "string"
    # Tag tree from x-tagGroups; every operation appears once.
    tree = catalog.tag_tree()
    assert [g["name"] for g in tree][:2] == ["Clockify API", "Clockify Reports API"]
    listed = [op["operation_id"] for g in tree for t in g["tags"] for op in t["operations"]]
    assert sorted(listed) == sorted(op.operation_id for op in catalog.operations)


@needs_official
def test_official_document_search():
    catalog = Catalog.from_compiled(compile_document(parse_document(open(OFFICIAL_DOC, "rb").read())))
    found = catalog.search("time entry")
    assert found and all("time" in (op.summary + op.path + op.operation_id).lower() for op in found[:5])
    assert {op.method for op in catalog.search(method="delete")} == {"DELETE"}
    assert len(catalog.search(method="GET")) == 47
    tags = catalog.search(tag="tag")
    assert {op.operation_id for op in tags} == {"getTags", "createNewTag", "deleteTag", "getTag", "updateTag"}
    assert [op.operation_id for op in catalog.search("getProjects")][0] == "getProjects"
    assert catalog.search("zzzz-not-there") == []


def test_refs_cycles_and_external_refs_are_handled():
    document = {
        "openapi": "3.0.0", "info": {"title": "t", "version": "1"},
        "paths": {"/v1/nodes": {"post": {
            "operationId": "createNode",
            "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Node"}}}},
            "parameters": [{"$ref": "#/components/parameters/Missing"}, {"$ref": "other.yaml#/x"}],
            "responses": {},
        }}},
        "components": {"schemas": {"Node": {"type": "object", "properties": {
            "name": {"type": "string"}, "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
        }}}},
    }
    op = _catalog_of(document).get("createNode")
    children = op.request_body_schema["properties"]["children"]["items"]
    assert children == {"$ref": "#/components/schemas/Node", "x-circular": True}
    assert op.parameters == ()  # unresolvable parameters are dropped, not guessed
    assert op.examples["body"] == {"children": []}  # the cycle stops the synthesised example


@pytest.mark.parametrize("raw, message", [
    (b"- just\n- a list\n", "not a mapping"),
    (b"openapi: 2.0\npaths: {}\n", "OpenAPI 3"),
    (b"{\"openapi\": \"3.0.0\"}", "no 'paths'"),
    (b"openapi: 3.0.0\npaths: {}\n", "no operations"),
    (b"openapi: [unclosed\n", "not JSON or YAML"),
])
def test_bad_documents_are_refused(raw, message):
    with pytest.raises(CatalogError, match=message):
        compile_document(parse_document(raw))


def test_yaml_dates_stay_strings_so_the_compiled_catalogue_is_json():
    raw = b"""openapi: 3.0.0
info: {title: d, version: 2024-01-01}
paths:
  /v1/x:
    get:
      operationId: getX
      parameters:
        - {name: since, in: query, schema: {type: string}, example: 2024-05-01T10:00:00Z}
      responses: {}
"""
    compiled = compile_document(parse_document(raw))
    json.dumps(compiled)  # would raise on a datetime
    assert compiled["version"] == "2024-01-01"
    assert Catalog.from_compiled(compiled).get("getX").examples["query"] == {"since": "2024-05-01T10:00:00Z"}


def test_json_document_is_accepted():
    document = {"openapi": "3.0.0", "info": {"title": "j"}, "servers": [{"url": "https://reports.api.clockify.me"}],
                "paths": {"/v1/x": {"get": {"operationId": "getX", "responses": {}}}}}
    op = Catalog.from_compiled(compile_document(parse_document(json.dumps(document).encode()))).get("getX")
    assert op.host == "reports" and op.is_read_only


@pytest.mark.django_db
def test_get_catalog_without_a_sync_uses_the_bundled_catalogue():
    assert OpenAPIDocument.objects.count() == 0
    assert get_catalog().source == BUNDLED_SOURCE
    assert get_catalog(None).get("getProjects") is not None


@needs_official
@pytest.mark.django_db
def test_sync_command_caches_the_document_and_every_process_sees_it(settings, capsys):
    settings.CLOCKIFY_OPENAPI_SOURCE = OFFICIAL_DOC
    call_command("sync_openapi")
    assert "Synced 158 operations" in capsys.readouterr().out
    row = OpenAPIDocument.objects.get()
    assert row.operation_count == 158 and row.source == OFFICIAL_DOC
    assert len(get_catalog()) == 158 and get_catalog().sha256 == row.sha256
    call_command("sync_openapi")  # same document: nothing new stored
    assert "Unchanged" in capsys.readouterr().out and OpenAPIDocument.objects.count() == 1
    call_command("sync_openapi", "--reset")
    assert OpenAPIDocument.objects.count() == 0 and get_catalog().source == BUNDLED_SOURCE


@pytest.mark.django_db
def test_sync_from_a_file_url_and_a_bad_document_keeps_the_active_one(tmp_path, capsys):
    good = tmp_path / "doc.json"
    good.write_text(json.dumps({"openapi": "3.0.1", "info": {"title": "Mini", "version": "9"}, "paths": {
        "/v1/user": {"get": {"operationId": "getLoggedUser", "summary": "me", "responses": {}}}}}))
    call_command("sync_openapi", "--source", f"file://{good}")
    assert get_catalog().title == "Mini" and len(get_catalog()) == 1
    bad = tmp_path / "bad.yaml"
    bad.write_text("openapi: 3.0.0\ninfo: {}\n")
    with pytest.raises(CommandError, match="active catalogue is unchanged"):
        call_command("sync_openapi", "--source", str(bad))
    with pytest.raises(CommandError, match="cannot read"):
        call_command("sync_openapi", "--source", str(tmp_path / "missing.yaml"))
    with pytest.raises(CommandError, match="unsupported source scheme"):
        call_command("sync_openapi", "--source", "ftp://example.invalid/doc.yaml")
    assert OpenAPIDocument.objects.count() == 1 and get_catalog().title == "Mini"


@pytest.mark.django_db
def test_sync_with_no_source_configured_keeps_the_bundled_catalogue(settings, capsys):
    settings.CLOCKIFY_OPENAPI_SOURCE = ""
    call_command("sync_openapi")
    assert "bundled catalogue is active" in capsys.readouterr().out
    assert OpenAPIDocument.objects.count() == 0


def test_schedule_declares_the_periodic_sync():
    from explorer.schedules import SCHEDULE

    assert {entry["task"] for entry in SCHEDULE.values()} == {"explorer.sync_openapi"}
