"""Webhook events keep the entity cache current: through the real webhook endpoint and the
webhooks app's processing service (which calls the registered ``entity_cache`` processor)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from addons.catalog import EVENTS, EntityAction
from addons.manifest import webhook_path
from bootstrap.models import CachedEntity
from bootstrap.selectors import entity_counts, entity_get
from bootstrap.services import cached_entities_upsert

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "clockify" / "webhook-samples"


def _deliver(client, ws, event: str, body: dict, *, token: str | None = None) -> int:
    """POST a signed Clockify webhook, then process the stored event; returns the event id."""
    from webhooks.models import WebhookEvent
    from webhooks.services.processing import webhook_event_process

    response = client.post(
        f"/{ws.variant.slug}{webhook_path(event)}", data=json.dumps(body).encode(), content_type="application/json",
        HTTP_CLOCKIFY_SIGNATURE=token or ws.minter.webhook_token(), HTTP_CLOCKIFY_WEBHOOK_EVENT_TYPE=event,
    )
    assert response.status_code == 200, response.content
    event_row = WebhookEvent.objects.filter(event_type=event).order_by("-pk").first()
    assert webhook_event_process(event_id=event_row.pk) == "processed", event_row.error
    return event_row.pk


def test_created_updated_deleted_events_upsert_and_remove(standin_install, client):
    ws, installation = standin_install(size=None)
    project = {"id": "p1", "name": "Apollo", "workspaceId": ws.workspace_id, "archived": False}

    _deliver(client, ws, "NEW_PROJECT", project)
    assert entity_get(installation=installation, entity_type="projects", entity_id="p1") == project

    _deliver(client, ws, "PROJECT_UPDATED", {**project, "name": "Apollo II"})
    assert entity_get(installation=installation, entity_type="projects", entity_id="p1")["name"] == "Apollo II"

    _deliver(client, ws, "PROJECT_DELETED", {**project, "name": "Apollo II"})
    assert entity_get(installation=installation, entity_type="projects", entity_id="p1") is None


def test_an_older_event_never_overwrites_newer_data(standin_install, client):
    from webhooks.models import WebhookEvent
    from webhooks.services.processing import webhook_event_process
    from webhooks.extensions import processors

    ws, installation = standin_install(size=None)
    tag = {"id": "t1", "name": "fresh", "workspaceId": ws.workspace_id}
    cached_entities_upsert(installation=installation, entity_type="tags", items=[tag])
    # An update accepted a minute before that fetch, processed only now (a backlog, a replay).
    stale = WebhookEvent.objects.create(installation=installation, event_type="TAG_UPDATED",
                                        payload={**tag, "name": "stale"}, entity_id="t1",
                                        received_at=timezone.now() - timedelta(minutes=1))
    assert "entity_cache" in dict(processors())
    assert webhook_event_process(event_id=stale.pk) == "processed"
    assert entity_get(installation=installation, entity_type="tags", entity_id="t1")["name"] == "fresh"


def test_reference_payloads_merge_into_the_cached_entity(standin_install, client):
    ws, installation = standin_install(size=None)
    expense = {"id": "e1", "workspaceId": ws.workspace_id, "total": 10, "notes": "taxi"}
    _deliver(client, ws, "EXPENSE_CREATED", expense)
    _deliver(client, ws, "EXPENSE_UPDATED", {"workspaceId": ws.workspace_id, "expenseId": "e1", "categoryId": "c9"})
    assert entity_get(installation=installation, entity_type="expenses", entity_id="e1") == {
        **expense, "expenseId": "e1", "categoryId": "c9"}
    _deliver(client, ws, "EXPENSE_DELETED", {"workspaceId": ws.workspace_id, "expenseId": "e1"})
    assert entity_get(installation=installation, entity_type="expenses", entity_id="e1") is None


def test_events_without_an_entity_change_and_foreign_payloads_store_nothing(standin_install, client):
    ws, installation = standin_install(size=None)
    _deliver(client, ws, "ASSIGNMENT_PUBLISHED", {"workspaceId": ws.workspace_id, "id": "a1", "userIds": ["u1"]})
    _deliver(client, ws, "NEW_TAG", {"id": "t9", "name": "x", "workspaceId": "someone-elses-workspace"})
    assert not CachedEntity.objects.filter(installation=installation).exists()


def test_the_cache_is_per_installation(standin_install, client):
    ws_a, inst_a = standin_install(size=None)
    ws_b, inst_b = standin_install(size=None)
    _deliver(client, ws_a, "NEW_CLIENT", {"id": "c1", "name": "A", "workspaceId": ws_a.workspace_id})
    assert entity_get(installation=inst_a, entity_type="clients", entity_id="c1") is not None
    assert entity_get(installation=inst_b, entity_type="clients", entity_id="c1") is None
    assert entity_counts(installation=inst_b) == {}


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="Clockify webhook samples (../shared) not present")
def test_every_entity_bearing_sample_event_updates_the_cache(standin_install, standin, client):
    from webhooks.services.workspace_webhooks import workspace_webhooks_sync

    ws, installation = standin_install(size=5)
    # The API-only events come from workspace webhooks, each with the token createWebhook returned.
    assert ws.lifecycle(client, "SETTINGS_UPDATED", {"workspaceId": ws.workspace_id, "addonId": ws.addon_id, "settings": [
        {"id": "enable_workspace_webhooks", "value": True}]}).status_code == 200
    workspace_webhooks_sync(installation_id=installation.pk)
    tokens = {h["webhookEvent"]: h["authToken"] for h in standin.workspace(ws.workspace_id).webhooks.values()
              if h["_type"] == "USER_CREATED"}
    checked = 0
    for sample in sorted(SAMPLES.glob("*.json")):
        spec = EVENTS.get(sample.stem)
        if spec is None or spec.action is EntityAction.OTHER:
            continue
        body = json.loads(sample.read_text())
        if "workspaceId" in body:
            body["workspaceId"] = ws.workspace_id
        entity_id = body.get("id") or body.get({"expenses": "expenseId", "assignments": "assignmentId"}.get(
            spec.entity_type, ""))
        _deliver(client, ws, spec.name, body, token=None if spec.addon_webhook else tokens[spec.name])
        if not entity_id:  # e.g. BALANCE_UPDATED names no entity of its own: nothing to cache
            assert not CachedEntity.objects.filter(installation=installation, entity_type=spec.entity_type).exists()
            continue
        cached = entity_get(installation=installation, entity_type=spec.entity_type, entity_id=entity_id)
        if spec.action is EntityAction.DELETED:
            assert cached is None, spec.name
        else:
            assert cached is not None and cached.items() >= {k: v for k, v in body.items()}.items(), spec.name
        checked += 1
    assert checked >= 40


# --- only Clockify's events touch the cache (issue 14, reproduction 4) -----------------------------


@pytest.mark.parametrize("declared_type, changes", [
    ("PROJECT_UPDATED", {"name": "Owned by a stranger"}),
    ("PROJECT_DELETED", {}),
    ("NEW_PROJECT", {"name": "Injected"}),
])
def test_a_custom_delivery_never_touches_cached_clockify_entities(standin_install, client, declared_type, changes):
    from webhooks.models import WebhookEvent
    from webhooks.services import custom_source_create
    from webhooks.services.processing import webhook_event_process
    from webhooks.tests.conftest import standard_headers

    ws, installation = standin_install("universal-webhook", size=None)
    project = {"id": "p1", "name": "Apollo", "workspaceId": ws.workspace_id}
    cached_entities_upsert(installation=installation, entity_type="projects", items=[project])
    source, secret = custom_source_create(installation=installation, name="Third party")
    forged_id = "p2" if declared_type == "NEW_PROJECT" else "p1"
    body = json.dumps({"type": declared_type, "id": forged_id, "workspaceId": ws.workspace_id, **changes}).encode()
    response = client.post(f"/universal-webhook/webhooks/custom/{source.public_id}", data=body,
                           content_type="application/json", **standard_headers(secret, body))
    assert response.status_code == 200, response.content
    event = WebhookEvent.objects.get(custom_source=source)
    assert event.source == "custom" and event.event_type == declared_type  # stored as the sender declared it
    assert webhook_event_process(event_id=event.pk) == "processed", event.error
    assert entity_get(installation=installation, entity_type="projects", entity_id="p1") == project
    assert entity_get(installation=installation, entity_type="projects", entity_id="p2") is None
