"""Django system checks of the platform's own settings (issue 15): what production requires, and
the escape hatches that weaken security, refused unless DEBUG is on.

Registered under ``PLATFORM_SETTINGS`` by ``addons.apps`` and run by ``manage.py check`` (and every
management command that checks), by ``config.wsgi`` / ``config.asgi`` and by the Celery worker
and beat (``config.startup``): a misconfigured process refuses to start, naming the variable,
instead of answering 500 to Clockify later.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from django.conf import settings
from django.core import checks

PLATFORM_SETTINGS = "platform_settings"


def is_loopback_host(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _error(n: int, variable: str, msg: str, hint: str = "") -> checks.Error:
    return checks.Error(f"{variable}: {msg}", hint=hint or None, id=f"platform.E{n:03d}")


def _fernet_key_errors() -> list[checks.Error]:
    keys = [k.strip() for k in settings.TOKEN_ENCRYPTION_KEYS if k.strip()]
    if not keys:
        return [_error(2, "TOKEN_ENCRYPTION_KEYS", "must be set when DEBUG is off (installation tokens are "
                       "encrypted with it)", "comma-separated Fernet keys, newest first; make one with "
                       "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'")]
    errors = []
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode())
        except ValueError:
            errors.append(_error(3, "TOKEN_ENCRYPTION_KEYS", f"key {position} of {len(keys)} is not a valid Fernet "
                                 "key (32 url-safe base64-encoded bytes)"))
    return errors


def _public_base_url_errors() -> list[checks.Error]:
    url = settings.PUBLIC_BASE_URL
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [_error(4, "PUBLIC_BASE_URL", f"{url!r} is not an absolute http(s) URL",
                       "the address Clockify reaches, e.g. https://addons.example.com")]
    if parts.scheme != "https" and not is_loopback_host(parts.hostname):
        return [_error(4, "PUBLIC_BASE_URL", "must use https when DEBUG is off (Clockify sends tokens to it)",
                       "plain http is accepted for a loopback address only (local use)")]
    return []


@checks.register(PLATFORM_SETTINGS)
def platform_settings_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    if settings.DEBUG:  # development: the escape hatches are allowed, and said out loud
        warnings = []
        if not settings.REQUIRE_SIGNATURE_VERIFICATION:
            warnings.append(checks.Warning("REQUIRE_SIGNATURE_VERIFICATION=false: Clockify token signatures are "
                                           "NOT verified (development only)", id="platform.W001"))
        if settings.FLOW_HTTP_ALLOW_PRIVATE_NETWORKS:
            warnings.append(checks.Warning("FLOW_HTTP_ALLOW_PRIVATE_NETWORKS=true: flow http actions may call "
                                           "private networks (tests only)", id="platform.W002"))
        return warnings

    errors: list[checks.CheckMessage] = []
    if not settings.SECRET_KEY or settings.SECRET_KEY == settings.DEV_SECRET_KEY:
        errors.append(_error(1, "SECRET_KEY", "must be set when DEBUG is off"))
    errors += _fernet_key_errors()
    errors += _public_base_url_errors()
    hosts = [h for h in settings.ALLOWED_HOSTS if h.strip()]
    if not hosts or "*" in hosts:
        errors.append(_error(5, "ALLOWED_HOSTS", "must list this service's host names (not *) when DEBUG is off"))
    if not settings.REQUIRE_SIGNATURE_VERIFICATION:
        errors.append(_error(6, "REQUIRE_SIGNATURE_VERIFICATION", "false is a development escape hatch: refused "
                             "when DEBUG is off", "unset it (Clockify token signatures are then verified)"))
    if settings.FLOW_HTTP_ALLOW_PRIVATE_NETWORKS:
        errors.append(_error(7, "FLOW_HTTP_ALLOW_PRIVATE_NETWORKS", "true lets flows call private networks: "
                             "refused when DEBUG is off", "unset it"))
    if any(origin.strip() in ("*", "http:", "https:") for origin in settings.CLOCKIFY_FRAME_ANCESTORS):
        errors.append(_error(8, "CLOCKIFY_FRAME_ANCESTORS", "lets any site frame the pages: refused when DEBUG "
                             "is off", "list Clockify's origins, e.g. https://clockify.me,https://*.clockify.me"))
    if settings.TRUST_X_FORWARDED_PROTO and not settings.METRICS_BEARER_TOKEN:
        errors.append(checks.Warning("METRICS_BEARER_TOKEN is unset behind a proxy (TRUST_X_FORWARDED_PROTO): "
                                     "/metrics refuses every scraper", id="platform.W010"))
    return errors
