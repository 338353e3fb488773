"""Call log retention per installation (``explorer_call_retention_days``)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from django.core.management import call_command

from installations.retention import retention_run
from explorer.models import ExplorerCall

pytestmark = pytest.mark.django_db


def _age(installation, days_old: list[int]) -> None:
    calls = list(ExplorerCall.objects.filter(installation=installation).order_by("id"))
    assert len(calls) == len(days_old)
    for call, days in zip(calls, days_old):
        ExplorerCall.objects.filter(pk=call.pk).update(created_at=timezone.now() - timedelta(days=days))


def test_purge_uses_each_installations_retention(explorer_install):
    short = explorer_install("universal-webhook")
    response = short.ws.lifecycle(short.client, "SETTINGS_UPDATED", {
        "workspaceId": short.ws.workspace_id, "addonId": short.ws.addon_id,
        "settings": [{"id": "explorer_call_retention_days", "name": "r", "value": 5}]})
    assert response.status_code == 200
    default = explorer_install("api-studio")  # 30 days: the registry default
    for ex in (short, default):
        for _ in range(3):
            assert ex.execute("getTags").json()["status"] == 200
    _age(short.installation, [1, 6, 40])
    _age(default.installation, [1, 6, 40])

    call_command("retention", "--kind", "explorer_calls", "--dry-run")
    assert ExplorerCall.objects.count() == 6  # a dry run deletes nothing
    call_command("retention", "--kind", "explorer_calls")
    left = ExplorerCall.objects.filter(installation=short.installation)
    assert left.count() == 1 and left.get().created_at > timezone.now() - timedelta(days=2)
    assert ExplorerCall.objects.filter(installation=default.installation).count() == 2
    [result] = retention_run(kinds=["explorer_calls"], now=timezone.now() + timedelta(days=30))
    assert result.count == 2 + 1
