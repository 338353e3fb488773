"""config.db: hand-written hot-path statements must read and write rows exactly as the ORM does.

Runs on the configured database (PostgreSQL in CI: prepared statements; SQLite: Django's cursor).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from config.db import ModelColumns, fetchone_prepared, insert_prepared, save_prepared, update_statement
from flows.models import Flow, FlowRun
from installations.models import Installation
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def installation() -> Installation:
    return Installation.objects.create(
        variant="universal-webhook", workspace_id="ws-prepared", addon_id="addon-1",
        settings={"enable_flows": True, "nested": {"a": [1, 2]}}, installed_at=timezone.now(),
    )


def _select(columns: ModelColumns, table: str, pk: int):
    return columns.build(fetchone_prepared(f"SELECT {columns.sql} FROM {table} t WHERE t.id = %s", [pk]))


def test_built_instances_equal_the_orm_s(installation):
    received = timezone.now() - timedelta(minutes=3)
    event = WebhookEvent.objects.create(
        installation=installation, event_type="NEW_TIME_ENTRY", received_at=received,
        payload={"id": "te1", "tags": [{"id": "t"}], "n": 1.5, "none": None}, headers={"x": "y"}, raw_body="{}",
    )
    built = _select(ModelColumns(WebhookEvent, "t"), WebhookEvent._meta.db_table, event.pk)
    from_orm = WebhookEvent.objects.get(pk=event.pk)
    for field in WebhookEvent._meta.concrete_fields:
        assert getattr(built, field.attname) == getattr(from_orm, field.attname), field.name
    assert built.received_at == received and built.received_at.tzinfo is not None
    assert built.payload["tags"] == [{"id": "t"}] and not built._state.adding

    same_installation = _select(ModelColumns(Installation, "t"), Installation._meta.db_table, installation.pk)
    assert same_installation.settings == {"enable_flows": True, "nested": {"a": [1, 2]}}
    assert same_installation.installed_at == Installation.objects.get(pk=installation.pk).installed_at


def test_excluded_fields_are_deferred_and_load_on_access(installation):
    event = WebhookEvent.objects.create(installation=installation, event_type="X", raw_body="the body")
    built = _select(ModelColumns(WebhookEvent, "t", exclude=("raw_body",)), WebhookEvent._meta.db_table, event.pk)
    assert "raw_body" in built.get_deferred_fields()
    assert built.raw_body == "the body"  # one query, as with QuerySet.defer


def test_save_prepared_inserts_and_updates_only_the_named_fields(installation):
    flow = Flow(installation=installation, name="f", trigger={"events": ["NEW_TAG"]}, actions=[{"type": "x"}])
    save_prepared(flow)
    assert flow.pk is not None and not flow._state.adding
    stored = Flow.objects.get(pk=flow.pk)
    assert stored.created_at is not None and stored.trigger == {"events": ["NEW_TAG"]}  # auto_now_add ran

    flow.name, flow.enabled = "renamed", False
    save_prepared(flow, fields=["name"])
    stored = Flow.objects.get(pk=flow.pk)
    assert stored.name == "renamed" and stored.enabled is True  # enabled was not among the fields


def test_insert_prepared_skips_a_conflicting_row(installation):
    flow = Flow.objects.create(installation=installation, name="f", trigger={"events": ["E"]}, actions=[])
    conflict = "(flow_id, event_id) WHERE replay_of_id IS NULL AND event_id IS NOT NULL DO NOTHING"

    def run() -> FlowRun:
        return FlowRun(flow=flow, installation=installation, flow_version=1, definition={}, event_id=7,
                       deadline_at=timezone.now())

    first, second = run(), run()
    assert insert_prepared(first, on_conflict=conflict) is True and first.pk is not None
    assert insert_prepared(second, on_conflict=conflict) is False and second.pk is None
    assert FlowRun.objects.filter(flow=flow, event_id=7).count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="WITH ... UPDATE is PostgreSQL's")
def test_update_statement_runs_inside_another_statement(installation):
    flow = Flow.objects.create(installation=installation, name="before", trigger={"events": ["E"]}, actions=[])
    flow.name = "after"
    sql, params = update_statement(flow, fields=["name"])
    row = fetchone_prepared(f"WITH saved AS ({sql} RETURNING name) SELECT name FROM saved", params)
    assert row == ("after",) and Flow.objects.get(pk=flow.pk).name == "after"


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs a server connection to kill")
def test_a_dead_connection_is_replaced_outside_a_transaction(installation):
    import psycopg

    fetchone_prepared("SELECT 1", [])
    pid = connection.connection.info.backend_pid
    settings = connection.settings_dict
    with psycopg.connect(host=settings["HOST"] or None, port=settings["PORT"] or None, user=settings["USER"],
                         password=settings["PASSWORD"] or None, dbname=settings["NAME"], autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    assert fetchone_prepared("SELECT %s::int + 1", [41]) == (42,)
    assert connection.connection.info.backend_pid != pid
