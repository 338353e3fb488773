"""Bootstrap calls each endpoint the way Clockify's OpenAPI document says (issue 20, items 6 and 8).

Every endpoint's query parameters are checked against the operation in the document: nothing it
sends is undeclared, everything required is sent (``include-roles`` on users), and it pages exactly
when the operation takes ``page``/``page-size``. Against the shared official document when present
and always against the bundled catalogue (which must agree with it)."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from addons.scopes import scope_for
from bootstrap.endpoints import ENDPOINTS, plan_options
from bootstrap.models import RunStatus
from bootstrap.services import bootstrap_start
from clockify_standin import data as standin_data
from explorer.catalog import bundled_catalog

OFFICIAL = Path(__file__).resolve().parents[2].parent / "shared" / "clockify" / "clockify-openapi-official-v1.yaml"
PAGING = {"page", "page-size"}


def _template(path: str) -> str:
    return re.sub(r"{[^{}/]+}", "{}", path)


def _sent_query(endpoint) -> set[str]:
    options = plan_options(effective={"time_entry_days_back": 30, "bootstrap_max_rps": 25,
                                      "bootstrap_max_pages": 200, "include_heavy_endpoints": True,
                                      "include_time_entries": True})
    return set(endpoint.params(options)) | (PAGING if endpoint.paginated and not endpoint.single else set())


def _check(endpoint, operation_id: str, query: dict[str, bool]) -> None:
    """``query``: the operation's query parameters, name -> required."""
    sent = _sent_query(endpoint)
    assert endpoint.operation_id == operation_id, endpoint.name
    assert sent <= set(query), f"{endpoint.name} sends undeclared {sorted(sent - set(query))}"
    assert {n for n, required in query.items() if required} <= sent, f"{endpoint.name} misses a required parameter"
    assert endpoint.paginated == (PAGING <= set(query)), f"{endpoint.name}: paginated does not match the document"
    assert endpoint.scope == scope_for("GET", endpoint.path)


@pytest.mark.skipif(not OFFICIAL.exists(), reason="../shared/clockify not present")
@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_each_endpoint_matches_the_official_openapi_document(name):
    endpoint = ENDPOINTS[name]
    document = _official()
    matches = [(path, item["get"]) for path, item in document["paths"].items()
               if _template(path) == _template(endpoint.path) and "get" in item]
    assert len(matches) == 1, f"{name}: {endpoint.path} is not a GET of the document"
    operation = matches[0][1]
    _check(endpoint, operation["operationId"],
           {p["name"]: bool(p.get("required")) for p in operation.get("parameters", []) if p["in"] == "query"})


@pytest.mark.parametrize("name", [n for n, e in ENDPOINTS.items() if bundled_catalog().get(e.operation_id)])
def test_each_endpoint_matches_the_bundled_catalogue(name):
    endpoint = ENDPOINTS[name]
    operation = bundled_catalog().get(endpoint.operation_id)
    assert operation.method == "GET" and _template(operation.path) == _template(endpoint.path)
    _check(endpoint, operation.operation_id, {p.name: p.required for p in operation.params_in("query")})


_DOCUMENT: dict = {}


def _official() -> dict:
    if not _DOCUMENT:
        _DOCUMENT.update(yaml.load(OFFICIAL.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))
    return _DOCUMENT


@pytest.mark.django_db
def test_unpaged_lists_are_fetched_with_one_get(standin_install, standin, drive_to_end, settings):
    """Custom fields and holidays take no paging parameters and send no Last-Page: with a full
    page's worth of them, paging would fetch the same list up to the page cap (item 6)."""
    settings.BOOTSTRAP_PAGE_SIZE = 50
    ws, installation = standin_install(size=50)
    data = standin.workspace(ws.workspace_id)
    for i in range(60):
        data.add("custom-fields", standin_data.build_custom_field(data, name=f"field {i}"))
        data.add("holidays", standin_data.build_holiday(data, name=f"holiday {i}", day=datetime.now(timezone.utc)))

    run = drive_to_end(bootstrap_start(installation=installation))

    assert run.status == RunStatus.DONE
    for name in ("custom-fields", "holidays"):
        step = run.steps.get(key=name)
        assert (step.status, step.pages, step.truncated) == ("done", 1, False), name
        assert step.items == len(data.entities[name])
        calls = standin.request_log.calls(path_contains=f"/{name}", workspace_id=ws.workspace_id)
        assert len(calls) == 1 and not PAGING & set(calls[0].query), name


@pytest.mark.django_db
def test_users_are_fetched_with_include_roles(standin_install, standin, drive_to_end):
    """The stand-in refuses users without include-roles, as the OpenAPI document requires it (item 8)."""
    ws, installation = standin_install(size=30)
    run = drive_to_end(bootstrap_start(installation=installation))
    step = run.steps.get(key="users")
    assert step.status == "done" and step.items == len(standin.workspace(ws.workspace_id).entities["users"])
    assert all("include-roles" in c.query for c in standin.request_log.calls(path_contains="/users",
                                                                                workspace_id=ws.workspace_id))
