"""Outgoing HTTP for flow ``http`` actions, behind an SSRF guard (DESIGN section 7).

The host is resolved ONCE; every address it resolves to must be public (one private answer
refuses the lot, so a name cannot mix a public and an internal address), and the connection
is made to the address that was checked, with the original ``Host`` header and TLS SNI /
certificate check against the hostname. A second lookup at connect time (DNS rebinding) can
therefore not redirect the request. Redirects are never followed, every socket operation has
a timeout, the whole exchange has a deadline and the body read stops at a byte cap.

Refused: loopback, RFC 1918 private, link-local, CGNAT (100.64/10), unspecified, multicast,
reserved and documentation ranges (anything ``ipaddress`` does not call global), IPv6 ULA,
and the same addresses hidden in IPv4-mapped, IPv4-compatible, 6to4, Teredo and NAT64 forms;
cloud metadata endpoints are refused even when the test-only escape hatch
``FLOW_HTTP_ALLOW_PRIVATE_NETWORKS`` lets private networks through.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import time
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlsplit

import certifi
from django.conf import settings
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool, Timeout
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import (
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    ConnectTimeoutError,
    SSLError,
)

logger = logging.getLogger("flows.ssrf")

Resolver = Callable[..., list]

METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "168.63.129.16", "100.100.100.200", "192.0.0.192",
              "fd00:ec2::254")
)
METADATA_HOSTNAMES = frozenset({"metadata", "metadata.google.internal", "metadata.goog", "instance-data",
                                "instance-data.ec2.internal"})
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_ULA = ipaddress.ip_network("fc00::/7")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPAT = ipaddress.ip_network("::/96")


class SSRFError(ValueError):
    """The request was refused before anything was sent (never retried)."""


class TransientHTTPError(Exception):
    """Timeout or connection failure: worth retrying."""


@dataclass(frozen=True)
class HttpResult:
    status: int
    headers: dict[str, str]
    body: bytes
    truncated: bool
    elapsed_ms: int
    address: str


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip.sixtofour:
        return ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]
    if ip in _NAT64 or (ip in _IPV4_COMPAT and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def refusal_reason(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> tuple[str, bool] | None:
    """Why an address may not be called, and whether the escape hatch can override it."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            inner = refusal_reason(embedded)
            if inner:
                return f"{inner[0]} (in an IPv6 form: {ip})", inner[1]
    if ip in METADATA_ADDRESSES:
        return "cloud metadata address", False
    if ip.is_loopback:
        return "loopback address", True
    if ip.is_link_local:
        return "link-local address", True
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return "shared (CGNAT) address", True
    if isinstance(ip, ipaddress.IPv6Address) and ip in _ULA:
        return "unique local (ULA) address", True
    if ip.is_unspecified or ip.is_multicast:
        return "unspecified or multicast address", False
    if ip.is_private:
        return "private address", True
    if not ip.is_global or ip.is_reserved:
        return "non-public address", True
    return None


def allow_private_networks() -> bool:
    return bool(getattr(settings, "FLOW_HTTP_ALLOW_PRIVATE_NETWORKS", False))


def host_allowed(host: str, allowed_domains: str) -> bool:
    """``*`` allows any host; otherwise the host or a parent domain must be listed."""
    spec = (allowed_domains or "").strip()
    if spec == "*":
        return True
    host = host.lower().rstrip(".")
    for domain in (d.strip().lower().lstrip("*.").rstrip(".") for d in spec.split(",")):
        if domain and (host == domain or host.endswith("." + domain)):
            return True
    return False


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # path + query, as sent


def parse_target(url: str, *, allowed_domains: str = "*") -> Target:
    """Static checks of a URL (no DNS): scheme, credentials, host, allow-list, literal addresses."""
    if not isinstance(url, str) or len(url) > 2048:
        raise SSRFError("url must be a string of at most 2048 characters")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise SSRFError(f"not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise SSRFError("only http and https URLs are allowed")
    if parts.username or parts.password or "@" in parts.netloc:
        raise SSRFError("credentials in the URL are not allowed; use a header")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise SSRFError("the URL has no host")
    if host.lower() in METADATA_HOSTNAMES:
        raise SSRFError("cloud metadata host refused")
    if not host_allowed(host, allowed_domains):
        raise SSRFError(f"host {host} is not in the allowed domains")
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        _check_address(literal)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path)


def _check_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
    reason = refusal_reason(ip)
    if reason is None:
        return
    text, overridable = reason
    if overridable and allow_private_networks():
        logger.warning("flow_http_private_network_allowed",
                       extra={"address": str(ip), "why": "FLOW_HTTP_ALLOW_PRIVATE_NETWORKS is on (test-only)"})
        return
    raise SSRFError(f"refused: {text}")


def resolve_checked(host: str, port: int, *, resolver: Resolver | None = None) -> str:
    """Resolve once; every answer must pass; return the address to connect to."""
    resolver = resolver or socket.getaddrinfo
    try:
        infos = resolver(host, port, 0, socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TransientHTTPError(f"could not resolve {host}: {exc}") from None
    addresses = []
    for info in infos:
        raw = info[4][0].split("%", 1)[0]  # drop an IPv6 zone id
        addresses.append(ipaddress.ip_address(raw))
    if not addresses:
        raise TransientHTTPError(f"could not resolve {host}")
    for ip in addresses:
        try:
            _check_address(ip)
        except SSRFError as exc:
            raise SSRFError(f"{host} resolves to a refused address ({exc})") from None
    return str(addresses[0])


def send(method: str, url: str, *, headers: dict[str, str], body: bytes | None, allowed_domains: str = "*",
         timeout: float = 10.0, max_bytes: int = 256 * 1024, resolver: Resolver | None = None) -> HttpResult:
    """Send one request through the guard. Raises ``SSRFError`` or ``TransientHTTPError``."""
    target = parse_target(url, allowed_domains=allowed_domains)
    address = resolve_checked(target.host, target.port, resolver=resolver)
    default_port = 443 if target.scheme == "https" else 80
    bracketed = f"[{target.host}]" if ":" in target.host else target.host
    host_header = bracketed if target.port == default_port else f"{bracketed}:{target.port}"
    send_headers = {k: v for k, v in headers.items() if k.lower() != "host"}
    send_headers["Host"] = host_header
    socket_timeout = Timeout(connect=min(timeout, 5.0), read=timeout)
    if target.scheme == "https":
        pool = HTTPSConnectionPool(address, target.port, timeout=socket_timeout, retries=False, maxsize=1,
                                   server_hostname=target.host, assert_hostname=target.host,
                                   cert_reqs="CERT_REQUIRED", ca_certs=certifi.where())
    else:
        pool = HTTPConnectionPool(address, target.port, timeout=socket_timeout, retries=False, maxsize=1)
    started = time.monotonic()
    deadline = started + timeout
    try:
        response = pool.urlopen(method, target.path, body=body, headers=send_headers, redirect=False,
                                retries=False, preload_content=False, assert_same_host=False)
        chunks, total, truncated = [], 0, False
        for chunk in response.stream(16384, decode_content=True):
            total += len(chunk)
            if total > max_bytes:
                chunks.append(chunk[: max(0, max_bytes - (total - len(chunk)))])
                truncated = True
                break
            chunks.append(chunk)
            if time.monotonic() > deadline:
                raise TransientHTTPError(f"response took longer than {timeout:g} s")
        response.release_conn()
        return HttpResult(response.status, {k.lower(): v for k, v in response.headers.items()}, b"".join(chunks),
                          truncated, int((time.monotonic() - started) * 1000), address)
    except NewConnectionError as exc:  # a subclass of ConnectTimeoutError in urllib3 2, so first
        raise TransientHTTPError(f"connection failed: {type(exc).__name__}") from exc
    except (ReadTimeoutError, ConnectTimeoutError, TimeoutError) as exc:
        raise TransientHTTPError(f"timed out after {timeout:g} s") from exc
    except SSLError as exc:
        raise SSRFError(f"TLS verification failed for {target.host}") from exc
    except (NewConnectionError, ProtocolError, ConnectionError, Urllib3Error, OSError) as exc:
        raise TransientHTTPError(f"connection failed: {type(exc).__name__}") from exc
    except ValueError as exc:  # http.client refuses a malformed request line or header
        raise SSRFError(f"malformed request: {exc}") from exc
    finally:
        pool.close()
