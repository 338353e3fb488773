"""Refusing to start misconfigured (issue 15): the platform's setting checks, run by the entry
points that do not run Django's checks themselves (WSGI/ASGI app, Celery worker and beat).

``manage.py`` commands run them as part of Django's system checks.
"""

from __future__ import annotations

import logging

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger("platform.startup")


def refuse_misconfiguration(process: str) -> None:
    """Raise ``ImproperlyConfigured`` naming every misconfigured variable; log the warnings."""
    from config.checks import PLATFORM_SETTINGS

    messages = checks.run_checks(tags=[PLATFORM_SETTINGS])
    for message in messages:
        if not message.is_serious():
            logger.warning("startup_check_warning", extra={"check": message.id, "detail": message.msg})
    errors = [m for m in messages if m.is_serious()]
    if errors:
        lines = "\n".join(f"  {m.id} {m.msg}" + (f" ({m.hint})" if m.hint else "") for m in errors)
        raise ImproperlyConfigured(f"the {process} process refuses to start:\n{lines}")
