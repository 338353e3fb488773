"""Reactions to installation lifecycle signals and the hooks installations call."""

from __future__ import annotations

from typing import Any

from bootstrap.models import ACTIVE_RUN_STATUSES, BootstrapRun
from bootstrap.services import bootstrap_start, bootstrap_stop
from bootstrap.services.runs import enqueue_drivers, parallelism
from installations.models import Installation
from installations.selectors import effective_settings


def start_for_admin(*, installation: Installation) -> bool:
    """The installations hook (admin "Re-run the bootstrap"): resume a failed run or start one."""
    return bootstrap_start(installation=installation, trigger="admin") is not None


def on_installed(sender: Any, *, installation: Installation, **_: Any) -> None:
    installation.refresh_from_db()
    if effective_settings(installation=installation)["enable_bootstrap"]:
        # A (re)install starts over: the token, and possibly the data, changed.
        bootstrap_stop(installation=installation, reason="reinstalled")
        bootstrap_start(installation=installation, trigger="install", fresh=True)


def on_deleted(sender: Any, *, installation: Installation, **_: Any) -> None:
    bootstrap_stop(installation=installation, reason="installation deleted")


def on_status_changed(sender: Any, *, installation: Installation, **_: Any) -> None:
    installation.refresh_from_db()
    if installation.is_active:  # a run paused while inactive picks up where it was
        for run in BootstrapRun.objects.filter(installation=installation, status__in=ACTIVE_RUN_STATUSES):
            enqueue_drivers(run=run, count=parallelism() if run.planned else 1)
