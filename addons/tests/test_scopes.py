"""Each variant declares exactly the scopes of what it can reach (issue 20, item 9).

What a variant can call is asked of the real gates: the explorer's authorisation (an admin who
confirms), flow validation of a Clockify action, the bootstrap endpoints it runs with every option
on, and the platform's own calls (webhook tokens, workspace webhooks). Every operation that gets
through must need a declared scope; every declared scope must be needed by one that does."""

from __future__ import annotations

from pathlib import Path

import pytest

from addons.catalog import SCOPES
from addons.iframe_auth import IframeUser
from addons.scopes import EVERYTHING, scope_for
from addons.variants import VARIANTS, Feature
from bootstrap.endpoints import ENDPOINTS
from explorer.catalog import bundled_catalog, clear_catalog_cache, get_catalog
from explorer.errors import ExplorerError
from explorer.services import openapi_reset, openapi_sync
from explorer.services.execute import operation_authorize
from flows.definition import FlowValidationError, validate_flow

pytestmark = pytest.mark.django_db

OFFICIAL = Path(__file__).resolve().parents[2].parent / "shared" / "clockify" / "clockify-openapi-official-v1.yaml"
_ALL_OPTIONS = {"include_heavy_endpoints": True, "include_time_entries": True}

# The platform's own calls (installations.services.installation_refresh_webhook_tokens and
# webhooks.services.workspace_webhooks), by the feature that makes them (None: every variant).
PLATFORM_CALLS = {
    None: [("GET", "/v1/workspaces/{workspaceId}/addons/{addonId}/webhooks")],
    Feature.WORKSPACE_WEBHOOKS: [("GET", "/v1/workspaces/{workspaceId}/webhooks"),
                                 ("POST", "/v1/workspaces/{workspaceId}/webhooks"),
                                 ("DELETE", "/v1/workspaces/{workspaceId}/webhooks/{webhookId}")],
}


@pytest.fixture(params=["bundled", "official"])
def catalog(request):
    clear_catalog_cache()
    if request.param == "official":
        if not OFFICIAL.exists():
            pytest.skip("../shared/clockify not present")
        openapi_sync(source=str(OFFICIAL))
    yield get_catalog()
    openapi_reset()


def _explorer_allows(installation, operation) -> bool:
    admin = IframeUser(variant=installation.variant_spec, installation=installation, token="t",
                       claims={"user": "u1", "workspaceRole": "OWNER"})
    try:
        operation_authorize(installation=installation, user=admin, operation=operation, confirm=True)
    except ExplorerError:
        return False
    return True


def _flows_allow(installation, operation) -> bool:
    action = {"type": "clockify", "operation": operation.operation_id,
              "params": {name: "x" for name in operation.path_param_names if name != "workspaceId"}}
    if operation.request_body_required:
        action["body"] = {}
    doc = {"name": "scope probe", "trigger": {"events": [installation.variant_spec.events[0]]}, "actions": [action]}
    try:
        validate_flow(doc, installation=installation)
    except FlowValidationError as exc:
        refused = {"actions[0].type", "actions[0].operation"} & set(exc.errors)
        assert not set(exc.errors) - refused - {"actions[0].body"}, exc.errors  # the probe itself is well formed
        return not refused
    return True


def _reachable(installation, catalog) -> dict[str, str | None]:
    """"METHOD /path" -> the scope it needs, for everything this installation's variant can call."""
    variant = installation.variant_spec
    reach: dict[str, str | None] = {}
    for operation in catalog.operations:
        if _explorer_allows(installation, operation) or _flows_allow(installation, operation):
            reach[operation.ref] = scope_for(operation.method, operation.path)
    for endpoint in ENDPOINTS.values():
        if endpoint.enabled(variant=variant, options=_ALL_OPTIONS):
            reach[f"GET {endpoint.path}"] = endpoint.scope
    for feature, calls in PLATFORM_CALLS.items():
        if feature is None or variant.allows(feature):
            reach.update({f"{method} {path}": scope_for(method, path) for method, path in calls})
    return reach


@pytest.mark.parametrize("slug", list(VARIANTS))
def test_every_reachable_operation_is_covered_and_no_declared_scope_is_unused(installed, catalog, slug):
    installation = _installation(slug, installed(slug))
    variant = VARIANTS[slug]
    reach = _reachable(installation, catalog)
    uncovered = {ref: scope for ref, scope in reach.items() if scope not in variant.scopes}
    if variant.api_access is EVERYTHING:  # "any API call": an operation newer than the table is fine
        uncovered = {ref: scope for ref, scope in uncovered.items() if scope is not None}
    assert uncovered == {}
    used = set(reach.values())
    if catalog.source.startswith("bundled") and slug == "universal-webhook":
        return  # the bundled catalogue is a subset: "every scope used" is checked on the official document
    assert set(variant.scopes) - used == set(), "declared but nothing of this variant needs them"


def _installation(slug, ws):
    from installations.models import Installation

    return Installation.objects.get(variant=slug, workspace_id=ws.workspace_id)


def test_api_studio_asks_for_what_its_plan_uses():
    assert VARIANTS["api-studio"].scopes == (
        "CLIENT_READ", "CLIENT_WRITE", "PROJECT_READ", "PROJECT_WRITE", "TAG_READ", "TAG_WRITE", "TASK_READ",
        "TASK_WRITE", "TIME_ENTRY_READ", "TIME_ENTRY_WRITE", "USER_READ", "GROUP_READ", "WORKSPACE_READ",
        "CUSTOM_FIELDS_READ")
    assert VARIANTS["universal-webhook"].scopes == SCOPES


def test_the_scope_table_knows_every_operation():
    operations = list(bundled_catalog().operations)
    if OFFICIAL.exists():
        from explorer.catalog import compile_document, parse_document
        from explorer.catalog.types import Catalog

        raw = OFFICIAL.read_bytes()
        operations += Catalog.from_compiled(compile_document(parse_document(raw), source="official", sha256="")).operations
    unknown = [op.ref for op in operations if scope_for(op.method, op.path) is None]
    assert unknown == []
    assert scope_for("GET", "/v1/workspaces/{workspaceId}/projects/{projectId}/tasks") == "TASK_READ"
    assert scope_for("POST", "/v1/workspaces/{workspaceId}/reports/detailed") == "REPORTS_READ"
    assert scope_for("POST", "/v1/workspaces/{workspaceId}/shared-reports") == "REPORTS_WRITE"
    assert scope_for("PUT", "/v1/workspaces/{workspaceId}/user/{userId}/time-entries") == "TIME_ENTRY_WRITE"
    assert scope_for("GET", "/v2/something-new") is None


def test_api_studio_cannot_call_what_it_does_not_declare(installed):
    ws = installed("api-studio")
    installation = _installation("api-studio", ws)
    policies = get_catalog().resolve("GET /v1/workspaces/{workspaceId}/time-off/policies")
    assert policies is not None and not _explorer_allows(installation, policies)  # TIME_OFF_READ: not declared
    assert not _flows_allow(installation, policies)
    tags = get_catalog().resolve("GET /v1/workspaces/{workspaceId}/tags")
    assert _explorer_allows(installation, tags) and _flows_allow(installation, tags)
