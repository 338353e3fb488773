"""Outgoing HTTP for flow ``http`` actions, behind an SSRF guard (DESIGN section 7).

The host is resolved ONCE; every address it resolves to must be public (one private answer
refuses the lot, so a name cannot mix a public and an internal address), and the connection
is made to the address that was checked, with the original ``Host`` header and TLS SNI /
certificate check against the hostname. A second lookup at connect time (DNS rebinding) can
therefore not redirect the request. Redirects are never followed (plain ``http.client``), the
whole exchange has one wall-clock deadline that also cuts a read in progress
(``config.http_deadline``), and the body read stops at a byte cap.

Refused: loopback, RFC 1918 private, link-local, CGNAT (100.64/10), unspecified, multicast,
reserved and documentation ranges (anything ``ipaddress`` does not call global), IPv6 ULA,
and the same addresses hidden in IPv4-mapped, IPv4-compatible, 6to4, Teredo and NAT64 forms;
cloud metadata endpoints are refused even when the test-only escape hatch
``FLOW_HTTP_ALLOW_PRIVATE_NETWORKS`` lets private networks through.
"""

from __future__ import annotations

import http.client
import ipaddress
import logging
import socket
import ssl
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable
from urllib.parse import urlsplit

import certifi
from django.conf import settings

from config import http_deadline

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


class PinnedHTTPConnection(http.client.HTTPConnection):
    """Dials the address that was checked; its socket is under the call's deadline from the start."""

    def connect(self) -> None:
        self.sock = socket.create_connection((self.host, self.port), self.timeout)
        http_deadline.watch(self.sock)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class PinnedHTTPSConnection(PinnedHTTPConnection):
    """The same, with TLS: SNI and the certificate check use the hostname, not the address."""

    default_port = 443

    def __init__(self, address: str, port: int, *, hostname: str, timeout: float) -> None:
        super().__init__(address, port, timeout=timeout)
        self.hostname = hostname

    def connect(self) -> None:
        super().connect()  # the handshake below already runs under the deadline
        self.sock = _tls_context(certifi.where()).wrap_socket(self.sock, server_hostname=self.hostname)


@lru_cache(maxsize=4)
def _tls_context(cafile: str) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=cafile)  # CERT_REQUIRED and hostname checks


def _read_capped(response: http.client.HTTPResponse, max_bytes: int) -> tuple[bytes, bool]:
    chunks, total = [], 0
    while total <= max_bytes:
        chunk = response.read(min(16384, max_bytes + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    body = b"".join(chunks)
    return body[:max_bytes], total > max_bytes


def send(method: str, url: str, *, headers: dict[str, str], body: bytes | None, allowed_domains: str = "*",
         timeout: float = 10.0, max_bytes: int = 256 * 1024, resolver: Resolver | None = None) -> HttpResult:
    """Send one request through the guard. Raises ``SSRFError`` or ``TransientHTTPError``.

    ``timeout`` bounds the whole exchange, from connecting to the last byte read (a server that
    trickles its headers or body is cut there); only the first ``max_bytes`` of the body are read.
    """
    target = parse_target(url, allowed_domains=allowed_domains)
    address = resolve_checked(target.host, target.port, resolver=resolver)
    default_port = 443 if target.scheme == "https" else 80
    bracketed = f"[{target.host}]" if ":" in target.host else target.host
    host_header = bracketed if target.port == default_port else f"{bracketed}:{target.port}"
    send_headers = {k: v for k, v in headers.items() if k.lower() != "host"}
    send_headers["Host"] = host_header
    if target.scheme == "https":
        conn: http.client.HTTPConnection = PinnedHTTPSConnection(address, target.port, hostname=target.host,
                                                                  timeout=timeout)
    else:
        conn = PinnedHTTPConnection(address, target.port, timeout=timeout)
    started = time.monotonic()
    with http_deadline.deadline(timeout) as deadline:
        try:
            conn.request(method, target.path, body=body, headers=send_headers)
            response = conn.getresponse()  # never follows a redirect
            content, truncated = _read_capped(response, max_bytes)
            if not deadline.expired:
                return HttpResult(response.status, {k.lower(): v for k, v in response.getheaders()}, content,
                                  truncated, int((time.monotonic() - started) * 1000), address)
        except Exception as exc:  # noqa: BLE001 - mapped below; the deadline explains most of them
            if not deadline.expired:
                raise _refusal_or_transient(exc, target.host) from exc
        finally:
            conn.close()
    raise TransientHTTPError(f"timed out after {timeout:g} s")


def _refusal_or_transient(exc: Exception, host: str) -> Exception:
    if isinstance(exc, ssl.SSLError):
        return SSRFError(f"TLS verification failed for {host}")
    if isinstance(exc, TimeoutError):
        return TransientHTTPError("timed out")
    if isinstance(exc, http.client.InvalidURL) or (isinstance(exc, ValueError) and not isinstance(exc, OSError)):
        return SSRFError(f"malformed request: {exc}")  # http.client refuses a bad request line or header
    if isinstance(exc, (http.client.HTTPException, OSError)):
        return TransientHTTPError(f"connection failed: {type(exc).__name__}")
    return exc
