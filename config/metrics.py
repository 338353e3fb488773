"""``GET /metrics``: Prometheus exposition, protected by a bearer token or a network allow-list.

When ``METRICS_BEARER_TOKEN`` is set, a request with that bearer token is allowed from anywhere;
otherwise (and in addition) the client address must be inside ``METRICS_ALLOWED_NETWORKS``.
Behind a reverse proxy (``TRUST_X_FORWARDED_PROTO``) every client arrives from the proxy's
address, often loopback: the address says nothing there, so only the bearer token is accepted.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from django_prometheus.exports import ExportToDjangoView

logger = logging.getLogger("platform.metrics")


@lru_cache(maxsize=4)
def _networks(spec: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(n.strip(), strict=False) for n in spec if n.strip())


def _allowed(request: HttpRequest) -> bool:
    expected = settings.METRICS_BEARER_TOKEN
    header = request.headers.get("Authorization", "")
    if expected and header.lower().startswith("bearer "):
        return hmac.compare_digest(header[7:].strip().encode(), expected.encode())
    if settings.TRUST_X_FORWARDED_PROTO:
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in _networks(tuple(settings.METRICS_ALLOWED_NETWORKS)))


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        logger.info("metrics_refused", extra={"reason": "not_allowed"})
        return JsonResponse({"error": "forbidden"}, status=403)
    return ExportToDjangoView(request)
