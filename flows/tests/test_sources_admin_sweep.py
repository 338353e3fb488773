"""Custom-source triggers, the admin pages, the stalled-run sweeper and the purge command."""

from datetime import timedelta
from io import StringIO
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.utils import timezone

from flows import services
from flows.models import Flow, FlowRun
from flows.tests.helpers import AUTO_TAG_FLOW, http_flow
from installations.models import Installation

pytestmark = pytest.mark.django_db


def installation_of(api) -> Installation:
    return Installation.objects.get(variant=api.side.variant_slug, workspace_id=api.side.workspace_id)


def custom_source(api, name="crm"):
    from webhooks.services.custom_sources import custom_source_create

    source, _secret = custom_source_create(installation=installation_of(api), name=name)
    return source


def test_custom_source_trigger(uw, install, receiver, allow_private):
    source = custom_source(uw)
    doc = http_flow(receiver.url("/crm"))
    doc["trigger"] = {"custom_source": source.public_id}
    assert uw.post("/flows", doc).status_code == 201

    # Another tenant cannot point a flow at this source.
    other = install("universal-webhook", settings={"enable_generic_http_actions": True})
    r = other.post("/flows", doc)
    assert r.status_code == 400 and "unknown custom source" in r.json()["trigger.custom_source"][0]

    custom = SimpleNamespace(pk=777, installation=installation_of(uw), event_type="deal.won", payload={"id": "d1"},
                             source="custom", custom_source=source)
    [run] = services.flow_runs_for_event(event=custom)
    assert run.event_type == "deal.won"
    # A Clockify event, or another source's event, does not start it.
    clockify = SimpleNamespace(pk=778, installation=installation_of(uw), event_type="NEW_TIME_ENTRY", payload={},
                               source="clockify", custom_source=None)
    assert services.flow_runs_for_event(event=clockify) == []
    elsewhere = SimpleNamespace(pk=779, installation=installation_of(uw), event_type="x", payload={}, source="custom",
                                custom_source=custom_source(uw, "other"))
    assert services.flow_runs_for_event(event=elsewhere) == []


def test_admin_pages(admin_client, studio, standin):
    studio.post("/flows", AUTO_TAG_FLOW)
    flow = Flow.objects.get()
    event = SimpleNamespace(pk=1, installation=flow.installation, event_type="NEW_TIME_ENTRY",
                            payload={"id": "x", "description": "bug"}, source="clockify", custom_source=None)
    [run] = services.flow_runs_for_event(event=event)
    for url in ("/admin/flows/flow/", f"/admin/flows/flow/{flow.pk}/change/", "/admin/flows/flowrun/",
                f"/admin/flows/flowrun/{run.pk}/change/"):
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert b"whsec_" not in response.content and b"signing_secret" not in response.content
    response = admin_client.post("/admin/flows/flow/", {"action": "disable", "_selected_action": [flow.pk]})
    assert response.status_code == 302
    flow.refresh_from_db()
    assert flow.enabled is False and flow.version == 2


def test_sweeper_requeues_overdue_runs_only(uw, receiver, allow_private, monkeypatch):
    uw.post("/flows", http_flow(receiver.url("/in")))
    installation = installation_of(uw)
    runs = [services.flow_runs_for_event(event=SimpleNamespace(
        pk=900 + i, installation=installation, event_type="NEW_TIME_ENTRY", payload={"id": str(i)},
        source="clockify", custom_source=None))[0] for i in range(3)]
    long_ago = timezone.now() - timedelta(minutes=5)
    FlowRun.objects.filter(pk=runs[0].pk).update(next_attempt_at=long_ago)  # its task was lost
    FlowRun.objects.filter(pk=runs[1].pk).update(next_attempt_at=long_ago, lease_token="live",
                                                 lease_until=timezone.now() + timedelta(seconds=30))  # running
    sent = []
    monkeypatch.setattr("flows.services.runs.enqueue_on_commit", lambda task, run_id: sent.append(run_id))
    assert services.flow_runs_requeue_stalled() == 1
    assert sent == [runs[0].pk]


def test_runs_expire_through_the_shared_retention_command(uw, receiver, allow_private):
    uw.post("/flows", http_flow(receiver.url("/in")))
    event = SimpleNamespace(pk=5, installation=installation_of(uw), event_type="NEW_TIME_ENTRY", payload={},
                            source="clockify", custom_source=None)
    [run] = services.flow_runs_for_event(event=event)
    in_flight = services.flow_runs_for_event(event=SimpleNamespace(
        pk=6, installation=installation_of(uw), event_type="NEW_TIME_ENTRY", payload={}, source="clockify",
        custom_source=None))[0]
    FlowRun.objects.filter(pk=run.pk).update(status="succeeded", created_at=timezone.now() - timedelta(days=31))
    FlowRun.objects.filter(pk=in_flight.pk).update(created_at=timezone.now() - timedelta(days=31))  # still queued
    out = StringIO()
    call_command("retention", "--kind", "flow_runs", stdout=out)
    assert "flow_runs: deleted 1" in out.getvalue()
    assert list(FlowRun.objects.values_list("pk", flat=True)) == [in_flight.pk]
