"""Hooks other apps register so that installations can ask for work without importing them.

The bootstrap app registers its starter at import (``bootstrap.apps``); without it the request
is a logged no-op, so installations never depends on bootstrap.
"""

from __future__ import annotations

import logging
from typing import Callable

from installations.models import Installation

logger = logging.getLogger("installations.hooks")

_bootstrap_starter: Callable[..., bool] | None = None


def register_bootstrap_starter(starter: Callable[..., bool]) -> None:
    global _bootstrap_starter
    _bootstrap_starter = starter


def request_bootstrap(*, installation: Installation) -> bool:
    """Ask for a bootstrap run; True when one was started or queued."""
    if _bootstrap_starter is None:
        logger.warning("bootstrap_unavailable", extra={"workspace_id": installation.workspace_id})
        return False
    return bool(_bootstrap_starter(installation=installation))
