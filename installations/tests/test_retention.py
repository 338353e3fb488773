from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from installations.models import Installation
from installations.retention import retention_kinds

pytestmark = pytest.mark.django_db


def _retention(*args):
    out = StringIO()
    call_command("retention", *args, stdout=out)
    return out.getvalue()


def test_deleted_installations_are_purged_after_the_grace_period(client, installed, settings):
    settings.DELETED_INSTALLATION_GRACE_DAYS = 30
    old, recent, live = installed(), installed(), installed()
    for ws in (old, recent):
        assert ws.lifecycle(client, "DELETED").status_code == 200
    Installation.objects.filter(workspace_id=old.workspace_id).update(deleted_at=timezone.now() - timedelta(days=31))

    assert "deleted_installations: would delete 1" in _retention("--kind", "deleted_installations", "--dry-run")
    assert Installation.objects.count() == 3
    assert "deleted_installations: deleted 1" in _retention("--kind", "deleted_installations")
    assert set(Installation.objects.values_list("workspace_id", flat=True)) == {recent.workspace_id, live.workspace_id}


def test_every_kind_is_registered_and_reported():
    kinds = retention_kinds()
    for kind in ("webhook_events", "flow_runs", "explorer_calls", "cached_entities", "deleted_installations"):
        assert kind in kinds
    output = _retention("--dry-run")
    for kind in kinds:
        assert f"{kind}: would delete 0" in output


def test_unknown_kind_is_refused():
    with pytest.raises(CommandError, match="unknown kind"):
        _retention("--kind", "everything")
