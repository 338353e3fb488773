"""The one Clockify API client of the platform.

``ClockifyClient.for_installation(installation)`` sends ``X-Addon-Token`` (the installation's,
decrypted from the store, or a user token) to the installation's own base URLs (from the signed
token claims: backend, reports, pto, ...; never hard-coded, never from an unsigned body), and only
to Clockify's hosts (``addons.clockify.hosts``). Every attempt first takes a slot from
the token bucket of the (workspace, add-on) pair shared by all processes (``ratelimit``): Clockify
counts 50 requests/s per add-on per workspace, whichever token a call carries. Then it goes through a
pooled session. Connection errors, timeouts, 429 and 5xx are retried with capped exponential
backoff and full jitter (a ``Retry-After`` wins when present, and a 429 also pushes back every
other process's next slot); other 4xx are returned at once. HTTP errors come back as
responses; ``ClockifyError`` means no response could be had.

Each attempt has one wall-clock deadline, ``timeout[1]`` (``CLOCKIFY_HTTP_TIMEOUT_SECONDS``),
from connecting to the last byte, enforced while reading (``config.http_deadline``), and reads
at most ``CLOCKIFY_RESPONSE_MAX_BYTES`` (more is ``ClockifyResponseTooLarge``, never retried).
``deadline_seconds``, when set (the explorer, inside a web request), bounds the whole call:
rate-limit wait, attempts and backoff together.
"""

from __future__ import annotations

import json as jsonlib
import logging
import os
import random
import threading
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from http.cookiejar import DefaultCookiePolicy
from typing import TYPE_CHECKING, Any, Callable, Mapping
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.structures import CaseInsensitiveDict

from addons.clockify import ratelimit
from addons.clockify.hosts import api_url_allowed
from addons.metrics import CLOCKIFY_CALLS, RATE_LIMIT_WAIT_SECONDS
from config import http_deadline
from config.http_deadline import DeadlineHTTPAdapter

if TYPE_CHECKING:
    from addons.clockify.pagination import Pager
    from installations.models import Installation

logger = logging.getLogger("addons.clockify")

BASES = ("backend", "reports", "locations", "screenshots", "pto")
_BASE_FIELDS = {
    "backend": "backend_url", "reports": "reports_url", "locations": "locations_url",
    "screenshots": "screenshots_url", "pto": "pto_url",
}
RETRY_STATUSES = frozenset({429}) | frozenset(range(500, 600))
USER_AGENT = "clockify-addon-platform/1.0"


class ClockifyError(Exception):
    """No HTTP response could be obtained (connection, timeout, rate-limit wait), after retries."""


class ClockifyURLRefused(ClockifyError, ValueError):
    """The path or URL is not one of this installation's Clockify base URLs (never sent)."""


class ClockifyTimeout(ClockifyError):
    """No complete answer within the deadline (after retries)."""


class ClockifyResponseTooLarge(ClockifyError, ValueError):
    """The answer was larger than ``CLOCKIFY_RESPONSE_MAX_BYTES`` (final: a retry would be as large)."""


class ClockifyHTTPError(ClockifyError):
    """Raised by ``paginate`` only: a page came back with a non-2xx status."""

    def __init__(self, response: "ClockifyResponse", path: str) -> None:
        super().__init__(f"GET {path} returned HTTP {response.status}")
        self.response = response
        self.status = response.status


@dataclass
class ClockifyResponse:
    status: int
    headers: CaseInsensitiveDict
    body: bytes
    elapsed_ms: float
    attempts: int
    url: str = ""
    _parsed: Any = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        """The parsed body (``None`` for an empty body); raises ``ValueError`` when it is not JSON."""
        if self._parsed is None and self.body:
            self._parsed = jsonlib.loads(self.body)
        return self._parsed


# --- pooled sessions: one per process (a forked child must not reuse the parent's sockets) -----

_sessions: dict[int, requests.Session] = {}
_sessions_lock = threading.Lock()


def _session() -> requests.Session:
    pid = os.getpid()
    session = _sessions.get(pid)
    if session is None:
        with _sessions_lock:
            session = _sessions.get(pid)
            if session is None:
                session = requests.Session()
                adapter = DeadlineHTTPAdapter(pool_connections=16, pool_maxsize=32, max_retries=0)
                session.mount("http://", adapter)
                session.mount("https://", adapter)
                session.trust_env = False  # no proxies or .netrc credentials picked up from the environment
                # The session serves every installation of the process: a cookie one workspace's
                # answer sets must never be sent with another's calls, so none is kept.
                session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
                _sessions.clear()
                _sessions[pid] = session
    return session


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _headroom(rate: float) -> float:
    """Send one request per second below the cap: the slack absorbs network jitter between our
    clock and Clockify's, so its one-second window never counts more than the cap."""
    return rate - min(1.0, rate * 0.1)


class ClockifyClient:
    def __init__(self, *, token: str, workspace_id: str, base_urls: Mapping[str, str], addon_id: str = "",
                 max_rps: float | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
        self._token = token
        self.workspace_id = workspace_id
        self.base_urls = {name: url.rstrip("/") for name, url in base_urls.items() if url}
        overall = float(getattr(settings, "CLOCKIFY_WORKSPACE_RATE_LIMIT", 50))
        # Every client of the add-on on this workspace shares its bucket (installation and user
        # tokens alike); a lower cap (bootstrap) adds its own, shared by every client using it.
        bucket = f"{workspace_id}:{addon_id}" if addon_id else workspace_id
        self._buckets: list[tuple[str, float]] = []
        if max_rps is not None and max_rps < overall:
            self._buckets.append((f"{bucket}:cap{max_rps:g}", _headroom(float(max_rps))))
        self._buckets.append((bucket, _headroom(overall)))
        self.rate_limit_timeout: float | None = None  # None: CLOCKIFY_RATE_LIMIT_TIMEOUT_SECONDS
        self._sleep = sleep
        self.max_retries = int(getattr(settings, "CLOCKIFY_MAX_RETRIES", 5))
        self.timeout = (
            _setting("CLOCKIFY_CONNECT_TIMEOUT_SECONDS", 5.0),
            _setting("CLOCKIFY_HTTP_TIMEOUT_SECONDS", 15.0),
        )
        self.max_response_bytes = int(getattr(settings, "CLOCKIFY_RESPONSE_MAX_BYTES", 16 * 1024 * 1024))
        self.deadline_seconds: float | None = None  # a bound on a whole request(), retries included
        self.backoff_base = _setting("CLOCKIFY_BACKOFF_BASE_SECONDS", 0.5)
        self.backoff_max = _setting("CLOCKIFY_BACKOFF_MAX_SECONDS", 30.0)
        self.retry_after_max = 60.0  # a longer Retry-After is cut short rather than blocking a worker

    def __repr__(self) -> str:  # never show the token
        return f"<ClockifyClient workspace={self.workspace_id}>"

    @classmethod
    def for_installation(cls, installation: "Installation", *, user_token: str | None = None,
                         max_rps: float | None = None) -> "ClockifyClient":
        from installations.selectors import installation_token

        token = user_token or installation_token(installation=installation)
        # From the installation token's signed claims only: never the unsigned INSTALLED body's apiUrl.
        bases = {name: getattr(installation, field_name, "") for name, field_name in _BASE_FIELDS.items()}
        return cls(token=token, workspace_id=installation.workspace_id, base_urls=bases, max_rps=max_rps,
                   addon_id=installation.addon_id or installation.variant)

    # --- URLs ------------------------------------------------------------------------------------

    def url_for(self, path: str, *, base: str = "backend") -> str:
        """The absolute URL for ``path``; refuses anything outside this installation's bases or
        off Clockify's hosts (``CLOCKIFY_API_HOSTS``)."""
        url = self._url_under_bases(path, base=base)
        if not api_url_allowed(url):
            raise ClockifyURLRefused(f"{urlsplit(url).hostname or 'this host'} is not a Clockify API host "
                                     "(CLOCKIFY_API_HOSTS)")
        return url

    def _url_under_bases(self, path: str, *, base: str) -> str:
        if any(ch in path for ch in "\\\r\n\t #") or "/../" in f"{path}/" or "/./" in f"{path}/":
            raise ClockifyURLRefused("path contains characters or segments that are not allowed")
        if "://" in path:
            target = urlsplit(path)
            for root in self.base_urls.values():
                parts = urlsplit(root)
                if (target.scheme, target.netloc) == (parts.scheme, parts.netloc) and (
                    target.path == parts.path or target.path.startswith(parts.path.rstrip("/") + "/")
                ) and not target.username and not target.password:
                    return path
            raise ClockifyURLRefused("URL is not under one of this installation's Clockify base URLs")
        root = self.base_urls.get(base)
        if root is None:
            raise ClockifyURLRefused(f"no {base!r} base URL known for this installation")
        if not path.startswith("/"):
            raise ClockifyURLRefused("path must start with /")
        return root + path

    # --- requests --------------------------------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        return random.uniform(0, min(self.backoff_max, self.backoff_base * (2 ** (attempt - 1))))

    def _wait_for_slot(self, timeout: float | None = None) -> None:
        waited = 0.0
        for key, rate in self._buckets:
            try:
                # The tighter of the client's own bound and what is left of this call's deadline.
                bounds = [b for b in (self.rate_limit_timeout,
                                      None if timeout is None else max(0.0, timeout - waited)) if b is not None]
                waited += ratelimit.acquire(key, rate, timeout=min(bounds) if bounds else None)
            except ratelimit.RateLimitTimeout as exc:
                raise ClockifyError("timed out waiting for the workspace rate limit") from exc
        RATE_LIMIT_WAIT_SECONDS.observe(waited)

    def _send_once(self, method: str, url: str, seconds: float, **kwargs: Any) -> tuple[requests.Response, bytes]:
        """One exchange within ``seconds`` of wall-clock time, the body read up to the size cap."""
        with http_deadline.deadline(seconds) as deadline:
            try:
                raw = _session().request(method, url, timeout=(min(self.timeout[0], seconds), seconds),
                                         allow_redirects=False, stream=True, **kwargs)
                try:
                    body = self._read_capped(raw)
                finally:
                    raw.close()
            except requests.RequestException:
                if deadline.expired:  # the watchdog cut the connection: say what happened
                    raise requests.Timeout(f"no complete answer within {seconds:g} s") from None
                raise
            if deadline.expired:  # cut while the body was read to "end of stream"
                raise requests.Timeout(f"no complete answer within {seconds:g} s")
        return raw, body

    def _read_capped(self, raw: requests.Response) -> bytes:
        chunks, total = [], 0
        for chunk in raw.iter_content(65536):
            total += len(chunk)
            if total > self.max_response_bytes:
                raise ClockifyResponseTooLarge(f"answer larger than {self.max_response_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json: Any = None,
                base: str = "backend", headers: Mapping[str, str] | None = None) -> ClockifyResponse:
        url = self.url_for(path, base=base)
        method = method.upper()
        send_headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        for name, value in (headers or {}).items():
            if name.lower() not in ("x-addon-token", "authorization", "host", "cookie"):
                send_headers[name] = value
        send_headers["X-Addon-Token"] = self._token
        log_ctx = {"workspace_id": self.workspace_id, "method": method, "path": urlsplit(url).path}
        started = time.monotonic()
        ends = started + self.deadline_seconds if self.deadline_seconds else None
        attempts_allowed = self.max_retries + 1
        for attempt in range(1, attempts_allowed + 1):
            left = None if ends is None else ends - time.monotonic()
            self._wait_for_slot(timeout=left)
            seconds = self.timeout[1] if ends is None else min(self.timeout[1], ends - time.monotonic())
            try:
                if seconds <= 0:
                    raise requests.Timeout("the call's deadline passed")
                raw, body = self._send_once(method, url, seconds, params=params, json=json, headers=send_headers)
            except ClockifyResponseTooLarge:
                CLOCKIFY_CALLS.labels(status="error").inc()
                logger.warning("clockify_response_too_large", extra={**log_ctx, "limit": self.max_response_bytes})
                raise
            except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                    requests.exceptions.ContentDecodingError) as exc:
                CLOCKIFY_CALLS.labels(status="error").inc()
                delay = self._backoff(attempt)
                if attempt == attempts_allowed or (ends is not None and time.monotonic() + delay >= ends):
                    logger.warning("clockify_unreachable", extra={**log_ctx, "attempts": attempt,
                                                                   "error": type(exc).__name__})
                    error = ClockifyTimeout if isinstance(exc, requests.Timeout) else ClockifyError
                    raise error(f"{method} {log_ctx['path']}: {type(exc).__name__} after {attempt} attempts") from None
                logger.info("clockify_retry", extra={**log_ctx, "attempt": attempt, "error": type(exc).__name__,
                                                     "delay": round(delay, 3)})
                self._sleep(delay)
                continue
            except requests.RequestException as exc:  # invalid URL and the like: retrying cannot help
                CLOCKIFY_CALLS.labels(status="error").inc()
                raise ClockifyError(f"{method} {log_ctx['path']}: {type(exc).__name__}") from None
            status = raw.status_code
            CLOCKIFY_CALLS.labels(status=str(status)).inc()
            if status in RETRY_STATUSES:
                retry_after = _retry_after_seconds(raw.headers.get("Retry-After"))
                delay = min(retry_after, self.retry_after_max) if retry_after is not None else self._backoff(attempt)
                if status == 429:
                    # Every process sending for this workspace backs off, not just this one (also
                    # when this caller does its own retrying): the shared bucket holds the wait.
                    for key, _ in self._buckets:
                        ratelimit.penalize(key, delay)
                    delay = 0.0
                if attempt < attempts_allowed and (ends is None or time.monotonic() + delay < ends):
                    logger.info("clockify_retry", extra={**log_ctx, "attempt": attempt, "status": status,
                                                         "delay": round(delay, 3)})
                    if delay:
                        self._sleep(delay)
                    continue
            response = ClockifyResponse(
                status=status, headers=raw.headers, body=body, attempts=attempt, url=url,
                elapsed_ms=round((time.monotonic() - started) * 1000, 2),
            )
            logger.debug("clockify_call", extra={**log_ctx, "status": status, "attempts": attempt,
                                                 "elapsed_ms": response.elapsed_ms})
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def get(self, path: str, **kwargs: Any) -> ClockifyResponse:
        return self.request("GET", path, **kwargs)

    def paginate(self, path: str, *, params: Mapping[str, Any] | None = None, page_size: int = 50,
                 max_pages: int = 200, start_page: int = 1, base: str = "backend",
                 page_size_param: str = "page-size", items_key: str | None = None) -> "Pager":
        """Iterate the pages of a paginated GET (``Page`` objects); after the loop the pager's
        ``truncated`` says whether ``max_pages`` cut it short. Non-2xx pages raise ``ClockifyHTTPError``."""
        from addons.clockify.pagination import Pager

        return Pager(self, path, params=params, page_size=page_size, max_pages=max_pages,
                     start_page=start_page, base=base, page_size_param=page_size_param, items_key=items_key)

