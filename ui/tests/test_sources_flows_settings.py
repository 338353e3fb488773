"""Custom sources, the flows pages and the settings page over HTTP: plan gating, admin-only
actions, escaping, and nothing stored or leaked on a refused request."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from flows import services as flow_services
from flows.models import Flow
from installations.models import Installation
from webhooks.models import CustomSource, CustomSourceSecret


@pytest.fixture
def uw(clockify_side, client, db):
    side = clockify_side("universal-webhook", platform=client)
    assert side.install().status_code == 200
    return side


@pytest.fixture
def studio(clockify_side, client, db):
    side = clockify_side("api-studio", platform=client)
    assert side.install().status_code == 200
    return side


def _installation(side) -> Installation:
    return Installation.objects.get(workspace_id=side.workspace_id, variant=side.variant_slug)


def _get(side, path, role="OWNER", **params):
    params["auth_token"] = side.user_token(role)
    return Client().get(f"/{side.variant_slug}/ui/{path}", params)


def _post(side, path, body=None, role="OWNER", raw: bytes | None = None):
    return Client().post(f"/{side.variant_slug}/ui/{path}", data=raw if raw is not None else json.dumps(body or {}),
                         content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {side.user_token(role)}")


# --- custom sources ---------------------------------------------------------------------------------

def test_create_shows_url_and_secret_once(uw):
    response = _post(uw, "sources/create", {"name": "Jira"})
    assert response.status_code == 201
    data = response.json()
    source = CustomSource.objects.get(public_id=data["id"])
    assert data["url"].endswith(f"/universal-webhook/webhooks/custom/{source.public_id}")
    assert data["secret"]
    page = _get(uw, "sources").content.decode()
    assert source.public_id in page and "Jira" in page
    assert data["secret"] not in page  # never shown again
    assert source.secrets.get().hint in page


def test_rotate_and_revoke(uw):
    created = _post(uw, "sources/create", {"name": "GitHub"}).json()
    rotated = _post(uw, f"sources/{created['id']}/rotate")
    assert rotated.status_code == 200 and rotated.json()["secret"] != created["secret"]
    assert CustomSourceSecret.objects.filter(source__public_id=created["id"]).count() == 2
    assert _post(uw, f"sources/{created['id']}/revoke").status_code == 200
    assert CustomSource.objects.get(public_id=created["id"]).is_revoked
    assert _post(uw, f"sources/{created['id']}/rotate").status_code == 409
    page = _get(uw, "sources").content.decode()
    assert "revoked" in page and "source-rotate" not in page


def test_the_page_documents_both_signing_schemes_and_replay_protection(uw, settings):
    settings.WEBHOOK_CUSTOM_TOLERANCE_SECONDS = 240
    page = _get(uw, "sources").content.decode()
    for words in ("webhook-id", "webhook-signature", "X-Signature-Timestamp", "timestamp.body", "240 seconds",
                  "do not count"):
        assert words in page, words


@pytest.mark.parametrize("body,raw", [({"name": ""}, None), ({"name": "x" * 101}, None), ({"name": 7}, None),
                                      (None, b"{not json")])
def test_bad_source_input_is_refused_and_nothing_is_stored(uw, body, raw):
    response = _post(uw, "sources/create", body, raw=raw)
    assert response.status_code == 400 and response.json()["error"]
    assert not CustomSource.objects.exists()


def test_sources_are_admin_only_plan_gated_and_scoped(uw, studio, clockify_side, client):
    refused = _post(uw, "sources/create", {"name": "Jira"}, role="USER")
    assert refused.status_code == 403 and not CustomSource.objects.exists()
    created = _post(uw, "sources/create", {"name": "Jira"}).json()
    assert _post(uw, f"sources/{created['id']}/revoke", role="TEAM_MANAGER").status_code == 403
    other = clockify_side("universal-webhook", platform=client)
    assert other.install().status_code == 200
    assert _post(other, f"sources/{created['id']}/revoke").status_code == 404
    assert _post(other, f"sources/{created['id']}/rotate").status_code == 404
    assert not CustomSource.objects.get(public_id=created["id"]).is_revoked
    assert created["id"] not in _get(other, "sources").content.decode()
    # Standard plan: no custom sources at all.
    assert _get(studio, "sources").status_code == 404
    assert _post(studio, "sources/create", {"name": "Jira"}).status_code == 404
    assert CustomSource.objects.count() == 1
    non_admin_page = _get(uw, "sources", role="USER").content.decode()
    assert 'id="source-form"' not in non_admin_page and "source-rotate" not in non_admin_page


def test_source_name_is_escaped(uw):
    _post(uw, "sources/create", {"name": '<img src=x onerror="alert(1)">'})
    page = _get(uw, "sources").content.decode()
    assert "<img src=x" not in page and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page


# --- flows ---------------------------------------------------------------------------------------------

def _flow(side, name="Tag bug work"):
    return flow_services.flow_create(installation=_installation(side), user_id="owner", data={
        "name": name, "trigger": {"events": ["NEW_TIME_ENTRY"]},
        "conditions": {"mode": "all", "rules": [{"path": "$.description", "op": "contains", "value": "bug"}]},
        "actions": [{"type": "clockify", "operation": "createNewTag", "body": {"name": "bug"}}],
    })


def test_flow_pages_escape_a_malicious_name(studio):
    flow = _flow(studio, name="<script>alert('x')</script>")
    for path in ("flows", f"flows/{flow.public_id}", "dashboard"):
        page = _get(studio, path).content.decode()
        assert "<script>alert" not in page, path
    listing = _get(studio, "flows").content.decode()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in listing
    # The builder gets the flow as JSON in a data block, escaped for HTML too.
    builder = _get(studio, f"flows/{flow.public_id}").content.decode()
    assert "\\u003Cscript\\u003E" in builder


def test_flow_list_hides_management_from_non_admins(studio):
    flow = _flow(studio)
    admin = _get(studio, "flows").content.decode()
    assert 'id="new-flow"' in admin and f'data-flow="{flow.public_id}" checked aria-label' in admin
    user = _get(studio, "flows", role="USER").content.decode()
    assert 'id="new-flow"' not in user and 'id="read-only-note"' in user
    assert "disabled aria-label" in user
    builder = _get(studio, f"flows/{flow.public_id}", role="USER").content.decode()
    assert 'id="delete-flow"' not in builder and 'id="run-table"' not in builder


def test_run_detail_and_run_rows_are_admin_only(studio):
    from flows.models import FlowRun
    from webhooks.models import WebhookEvent

    flow = _flow(studio)
    body = studio.webhook_body("NEW_TIME_ENTRY")
    body["description"] = "a bug"
    assert studio.send_webhook("NEW_TIME_ENTRY", body).status_code == 200
    event = WebhookEvent.objects.get()
    [run] = flow_services.flow_runs_for_event(event=event)
    assert FlowRun.objects.filter(flow=flow).count() == 1
    assert _get(studio, f"flows/runs/{run.public_id}").status_code == 200
    refused = _get(studio, f"flows/runs/{run.public_id}", role="USER")
    assert refused.status_code == 403 and "a bug" not in refused.content.decode()
    rows = Client().get(f"/api-studio/ui/flows/{flow.public_id}/runs",
                        HTTP_AUTHORIZATION=f"Bearer {studio.user_token('USER')}")
    assert rows.status_code == 403
    assert _get(studio, "flows/runs/run_doesnotexist").status_code == 404


def test_flow_of_another_workspace_is_not_found(studio, clockify_side, client):
    flow = _flow(studio)
    other = clockify_side("api-studio", platform=client)
    assert other.install().status_code == 200
    assert _get(other, f"flows/{flow.public_id}").status_code == 404
    assert Flow.objects.count() == 1


def test_sample_event_for_the_path_picker(studio):
    body = studio.webhook_body("NEW_TAG")
    assert studio.send_webhook("NEW_TAG", body).status_code == 200
    headers = {"HTTP_AUTHORIZATION": f"Bearer {studio.user_token()}"}
    got = Client().get("/api-studio/ui/flows/sample-event?event_type=NEW_TAG", **headers).json()
    assert got == {"payload": body, "origin": "received"}
    # An event the plan does not subscribe to is refused.
    assert Client().get("/api-studio/ui/flows/sample-event?event_type=NEW_INVOICE", **headers).status_code == 400
    assert Client().get("/api-studio/ui/flows/sample-event?event_type=NEW_TAG").status_code == 401
    user = Client().get("/api-studio/ui/flows/sample-event?event_type=NEW_TAG",
                        HTTP_AUTHORIZATION=f"Bearer {studio.user_token('USER')}")
    assert user.status_code == 403 and b"payload" not in user.content


# --- settings ------------------------------------------------------------------------------------------

def test_settings_page_shows_effective_values_grouped(uw):
    assert uw.update_settings({"webhook_log_retention_days": 12, "enable_generic_http_actions": True}) \
        .status_code == 200
    page = _get(uw, "settings").content.decode()
    for title in ("Bootstrap", "Webhooks", "Flows", "Data"):
        assert f"<h2>{title}</h2>" in page
    assert '<dd data-setting="webhook_log_retention_days"><strong>12</strong>' in page
    assert '<dd data-setting="enable_generic_http_actions"><strong>On</strong>' in page


# --- credentials of http actions (issue 14, reproduction 2) ----------------------------------------


@pytest.mark.parametrize("role", ["USER", "TEAM_MANAGER"])
def test_the_builder_never_shows_http_action_credentials_to_readers(uw, role):
    from flows.tests.test_credentials import LEAKY_FLOW, SECRETS

    assert uw.update_settings({"enable_generic_http_actions": True}).status_code == 200
    flow = flow_services.flow_create(installation=_installation(uw), data=LEAKY_FLOW, user_id="owner")
    for path in ("flows", f"flows/{flow.public_id}", "dashboard"):
        page = _get(uw, path, role=role)
        assert page.status_code == 200
        assert not [s for s in SECRETS if s in page.content.decode()], path
    builder = _get(uw, f"flows/{flow.public_id}").content.decode()  # the owner edits what they wrote
    assert all(s in builder for s in SECRETS)
