"""Hooks other apps register so that installations can ask for work without importing them.

The bootstrap app registers its starter at import (``bootstrap.apps``); without it the request
is a logged no-op, so installations never depends on bootstrap. Work that needs the installation
token at uninstall registers a before-delete hook (``webhooks.apps``): it runs before the token is
wiped, and a failing hook never stops the uninstall.
"""

from __future__ import annotations

import logging
from typing import Callable

from installations.models import Installation

logger = logging.getLogger("installations.hooks")

_bootstrap_starter: Callable[..., bool] | None = None
_before_delete: list[Callable[..., None]] = []


def register_bootstrap_starter(starter: Callable[..., bool]) -> None:
    global _bootstrap_starter
    _bootstrap_starter = starter


def request_bootstrap(*, installation: Installation) -> bool:
    """Ask for a bootstrap run; True when one was started or queued."""
    if _bootstrap_starter is None:
        logger.warning("bootstrap_unavailable", extra={"workspace_id": installation.workspace_id})
        return False
    return bool(_bootstrap_starter(installation=installation))


def register_before_delete(hook: Callable[..., None]) -> None:
    if hook not in _before_delete:
        _before_delete.append(hook)


def run_before_delete(*, installation: Installation) -> None:
    """Call every before-delete hook with ``installation`` (still holding its token)."""
    for hook in list(_before_delete):
        try:
            hook(installation=installation)
        except Exception:  # the uninstall goes on; the hook logs its own details
            logger.exception("before_delete_hook_failed", extra={"workspace_id": installation.workspace_id,
                                                                 "hook": getattr(hook, "__name__", "?")})
