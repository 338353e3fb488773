"""Which hosts the Clockify client may call: ``CLOCKIFY_API_HOSTS``.

Base URLs come only from the claims of Clockify-signed tokens, and even then only to Clockify's
own hosts: a signed claim naming another host (a key compromise, a misconfigured environment)
still sends no token anywhere else. Entries are host names (``api.clockify.me``) or
``*.domain`` (any depth below ``domain``); ports are not part of the match. HTTPS only, except for
a loopback host that the list names (the local stand-in in tests and the demo).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _matches(host: str, pattern: str) -> bool:
    pattern = pattern.strip().lower().rstrip(".").strip("[]")
    if pattern.startswith("*."):
        return host.endswith(pattern[1:]) and len(host) > len(pattern) - 1
    return host == pattern


def api_url_allowed(url: str) -> bool:
    """Whether ``url`` points at an allowed Clockify host (scheme, credentials and host checked)."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".")
    except ValueError:
        return False
    if not host or parts.username is not None or parts.password is not None:
        return False
    if parts.scheme != "https" and not (parts.scheme == "http" and _is_loopback(host)):
        return False
    return any(_matches(host, pattern) for pattern in settings.CLOCKIFY_API_HOSTS if pattern.strip())
