"""The local Clockify stand-in: a threaded HTTP server on loopback, started in-process or by
``manage.py clockify_standin``.

Dependency-light on purpose (stdlib ``http.server`` + PyJWT) so it is never the bottleneck of a
benchmark: keep-alive HTTP/1.1, one response write per request, verified tokens cached.

Per request, in order: ``X-Addon-Token`` (401 missing/invalid, 403 other workspace) -> per-workspace
rate limit (429) -> injected fault (5xx) -> workspace known (404) -> JSON body (400) -> the endpoint
(``clockify_standin.api``). Injected latency delays every answer. Everything lands in
``request_log``.
"""

from __future__ import annotations

import json
import logging
import random
import socket
import threading
import time
from collections import deque
from pathlib import Path
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from clockify_standin import api, apiwebhooks
from clockify_standin.data import WorkspaceData, seed_workspace_data
from clockify_standin.requestlog import RequestLog, RequestRecord

logger = logging.getLogger("clockify_standin")
MAX_BODY_BYTES = 10 * 1024 * 1024
_TOKEN_CACHE_MAX = 20_000
_FAULT_STATUSES = (500, 502, 503)
# Clockify serves its manifest schemas (public); the stand-in serves the project's bundled copies.
_SCHEMA_DIR = Path(__file__).resolve().parent.parent / "addons" / "schemas"
MANIFEST_SCHEMA_PATH = "/api/addons/manifest-schema"
OPENAPI_PATH = "/docs/openapi.json"


class _TokenRejected(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class StandinServer:
    """A fake Clockify API. ``start()`` serves it from a background thread; ``stop()`` ends it."""

    def __init__(self, public_key_pem: str, *, rate_limit_per_second: int | None = 50,
                 fault_5xx_rate: float = 0.0, latency_ms: int = 0, host: str = "127.0.0.1", port: int = 0,
                 fault_seed: int = 0, retry_after: int | None = None, auto_seed_size: int | None = None,
                 auto_seed: int = 0) -> None:
        self._public_key = load_pem_public_key(public_key_pem.replace("\\n", "\n").strip().encode())
        self.host, self.port = host, port
        self.request_log = RequestLog()
        self._workspaces: dict[str, WorkspaceData] = {}
        self._ws_lock = threading.Lock()
        self._token_cache: dict[str, dict[str, Any]] = {}
        self._rate_lock = threading.Lock()
        self._windows: dict[str, deque[float]] = {}
        self._fault_lock = threading.Lock()
        self._auto_seed_size, self._auto_seed = auto_seed_size, auto_seed
        self.rate_limit_per_second: int | None = None
        self.fault_5xx_rate = 0.0
        self.latency_ms = 0
        self.retry_after: int | None = None
        self._fault_rng = random.Random(fault_seed)
        self.openapi_document: dict[str, Any] | None = None  # served at OPENAPI_PATH once set
        self.configure(rate_limit_per_second=rate_limit_per_second, fault_5xx_rate=fault_5xx_rate,
                       latency_ms=latency_ms, retry_after=retry_after)
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------------
    def start(self) -> "StandinServer":
        if self._httpd is not None:
            return self
        self._httpd = _HTTPServer((self.host, self.port), _Handler)
        self._httpd.standin = self
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"clockify-standin:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.close_connections()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def serve_forever(self) -> None:
        """Foreground serving (the management command); Ctrl-C returns."""
        self.start()
        try:
            while self._thread is not None and self._thread.is_alive():
                self._thread.join(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def __enter__(self) -> "StandinServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def backend_url(self) -> str:
        return f"{self.base_url}/api"

    @property
    def reports_url(self) -> str:
        return f"{self.base_url}/reports"

    # --- knobs and data --------------------------------------------------------------------------
    _UNSET: Any = object()

    def configure(self, *, rate_limit_per_second: Any = _UNSET, fault_5xx_rate: Any = _UNSET,
                  latency_ms: Any = _UNSET, retry_after: Any = _UNSET, fault_seed: int | None = None) -> None:
        """Change knobs at runtime (``None`` rate limit = unlimited; ``retry_after`` seconds or None)."""
        if rate_limit_per_second is not self._UNSET:
            self.rate_limit_per_second = int(rate_limit_per_second) if rate_limit_per_second else None
            with self._rate_lock:
                self._windows.clear()
        if fault_5xx_rate is not self._UNSET:
            if not 0.0 <= float(fault_5xx_rate) <= 1.0:
                raise ValueError("fault_5xx_rate must be within 0..1")
            self.fault_5xx_rate = float(fault_5xx_rate)
        if latency_ms is not self._UNSET:
            self.latency_ms = max(0, int(latency_ms))
        if retry_after is not self._UNSET:
            self.retry_after = retry_after
        if fault_seed is not None:
            with self._fault_lock:
                self._fault_rng = random.Random(fault_seed)

    def seed_workspace(self, workspace_id: str, *, size: int = 200, seed: int = 0) -> WorkspaceData:
        ws = seed_workspace_data(workspace_id, size=size, seed=seed)
        with self._ws_lock:
            self._workspaces[workspace_id] = ws
        return ws

    def workspace(self, workspace_id: str) -> WorkspaceData:
        return self._workspaces[workspace_id]

    def has_workspace(self, workspace_id: str) -> bool:
        return workspace_id in self._workspaces

    def set_addon_webhooks(self, workspace_id: str, addon_id: str, webhooks: list[dict[str, Any]], *,
                           user_id: str = "") -> None:
        """What ``getAddonWebhooks`` answers: ``[{webhookEvent, url, authToken}]`` as Clockify installed them."""
        ws = self._workspace_or_seed(workspace_id)
        apiwebhooks.set_addon_webhooks(ws, addon_id, webhooks, user_id=user_id or ws.owner_id)

    def set_webhook_limit(self, workspace_id: str, limit: int) -> None:
        """How many workspace webhooks ``createWebhook`` allows before refusing (the plan's allowance)."""
        self._workspace_or_seed(workspace_id).webhook_limit = int(limit)

    def deliver_workspace_webhooks(self, workspace_id: str, event: str, body: dict[str, Any] | None = None,
                                   *, timeout: float = 10.0) -> list[tuple[str, int]]:
        """Send ``event`` to every workspace webhook registered for it, as Clockify does."""
        from clockify_standin.payloads import webhook_body

        ws = self._workspace_or_seed(workspace_id)
        payload = body if body is not None else webhook_body(event, workspace_id=workspace_id, workspace=ws)
        return apiwebhooks.deliver(ws, event, payload, timeout=timeout)

    def set_addon_settings(self, workspace_id: str, structured_settings: dict[str, Any]) -> None:
        """What ``GET {backendUrl}/addon/workspaces/{ws}/settings`` answers (tabs/groups/settings)."""
        self._workspace_or_seed(workspace_id).addon_settings = json.loads(json.dumps(structured_settings))

    def _workspace_or_seed(self, workspace_id: str) -> WorkspaceData:
        ws = self._workspaces.get(workspace_id)
        if ws is None:
            if self._auto_seed_size is None:
                raise api.ApiError(404, f"Workspace {workspace_id} not found (stand-in: seed it first)")
            with self._ws_lock:
                ws = self._workspaces.get(workspace_id)
                if ws is None:
                    ws = seed_workspace_data(workspace_id, size=self._auto_seed_size, seed=self._auto_seed)
                    self._workspaces[workspace_id] = ws
        return ws

    # --- per-request checks ----------------------------------------------------------------------
    def verify_token(self, token: str | None) -> dict[str, Any]:
        if not token:
            raise _TokenRejected(401, "Full authentication is required to access this resource")
        claims = self._token_cache.get(token)
        if claims is None:
            try:
                claims = jwt.decode(token, self._public_key, algorithms=["RS256"],
                                    options={"verify_aud": False, "verify_iss": False, "verify_sub": False})
            except jwt.ExpiredSignatureError:
                raise _TokenRejected(401, "Token expired") from None
            except jwt.InvalidTokenError:
                raise _TokenRejected(401, "Invalid token") from None
            if claims.get("iss") != "clockify" or claims.get("type") != "addon" or not claims.get("workspaceId"):
                raise _TokenRejected(401, "Invalid token")
            if len(self._token_cache) >= _TOKEN_CACHE_MAX:
                self._token_cache.clear()
            self._token_cache[token] = claims
        exp = claims.get("exp")
        if exp is not None and exp < time.time():
            raise _TokenRejected(401, "Token expired")
        return claims

    def take_rate_slot(self, workspace_id: str, now: float) -> bool:
        """Sliding one-second window per workspace: at most N accepted requests in any second."""
        limit = self.rate_limit_per_second
        if not limit:
            return True
        with self._rate_lock:
            window = self._windows.setdefault(workspace_id, deque())
            while window and window[0] <= now - 1.0:
                window.popleft()
            if len(window) >= limit:
                return False
            window.append(now)
            return True

    def draw_fault(self) -> int | None:
        if self.fault_5xx_rate <= 0:
            return None
        with self._fault_lock:
            hit = self._fault_rng.random() < self.fault_5xx_rate
            return self._fault_rng.choice(_FAULT_STATUSES) if hit else None

    def handle(self, method: str, raw_path: str, headers: Any, body: bytes) -> api.ApiResponse:
        """One request, start to end; returns the response and logs it."""
        now = time.monotonic()
        parts = urlsplit(raw_path)
        path = parts.path
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        workspace_id = _path_workspace(path)
        try:
            response, workspace_id = self._handle(method, path, query, headers, body, workspace_id, now)
        except api.ApiError as exc:
            response = exc.response()
        except Exception:  # a stand-in bug must answer, not hang the client
            logger.exception("standin_internal_error", extra={"method": method, "path": path})
            response = api.ApiError(500, "stand-in internal error").response()
        self.request_log.add(RequestRecord(ts=now, method=method, path=path, query=query,
                                           workspace_id=workspace_id, status=response.status, wall_ts=time.time()))
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000)
        return response

    def _handle(self, method: str, path: str, query: dict[str, str], headers: Any, body: bytes,
                workspace_id: str | None, now: float) -> tuple[api.ApiResponse, str | None]:
        if path == "/healthz":
            return api.ApiResponse(200, {"status": "ok"}), None
        if path in (MANIFEST_SCHEMA_PATH, OPENAPI_PATH) and method == "GET":  # public documents: no token
            return self._public_document(path, query), None
        if path.startswith("/api/"):
            segments, router = path[5:].rstrip("/").split("/"), api.dispatch
        elif path.startswith("/reports/"):
            segments, router = path[9:].rstrip("/").split("/"), api.reports_dispatch
        else:
            raise api.ApiError(404, "No such endpoint on the Clockify stand-in")
        try:
            claims = self.verify_token(headers.get("X-Addon-Token"))
        except _TokenRejected as exc:
            raise api.ApiError(exc.status, exc.message) from None
        if workspace_id is not None and claims["workspaceId"] != workspace_id:
            raise api.ApiError(403, "Access denied: the token belongs to another workspace")
        workspace_id = claims["workspaceId"]
        if not self.take_rate_slot(workspace_id, now):
            err = api.ApiError(429, f"Rate limit exceeded: {self.rate_limit_per_second} requests per second")
            response = err.response()
            if self.retry_after is not None:
                response.headers["Retry-After"] = str(self.retry_after)
            return response, workspace_id
        fault = self.draw_fault()
        if fault is not None:
            return api.ApiError(fault, "Injected fault (stand-in)").response(), workspace_id
        ws = self._workspace_or_seed(workspace_id)
        parsed: Any = None
        if body:
            try:
                parsed = json.loads(body)
            except (ValueError, UnicodeDecodeError):
                raise api.ApiError(400, "Malformed JSON body") from None
        request = api.Request(method=method, segments=segments, query=query, body=parsed, workspace=ws,
                              claims=claims)
        return router(request), workspace_id


    def _public_document(self, path: str, query: dict[str, str]) -> api.ApiResponse:
        if path == OPENAPI_PATH:
            if self.openapi_document is None:
                raise api.ApiError(404, "No OpenAPI document configured on the stand-in")
            return api.ApiResponse(200, self.openapi_document)
        version = query.get("version", "")
        schema = _SCHEMA_DIR / f"manifest-schema-{version}.json"
        if not version.replace(".", "").isdigit() or not schema.is_file():
            raise api.ApiError(400, f"Unsupported manifest schema version {version!r}")
        return api.ApiResponse(200, json.loads(schema.read_text()))


def _path_workspace(path: str) -> str | None:
    segments = path.split("/")
    # /api/v1/workspaces/{ws}/..., /api/addon/workspaces/{ws}/..., /reports/v1/workspaces/{ws}/...
    for i in (3, 4):
        if len(segments) > i and segments[i - 1] == "workspaces" and segments[i]:
            return segments[i]
    return None


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True
    standin: StandinServer

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Wake idle keep-alive handler threads so stop() leaves nothing behind."""
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ClockifyStandin/1.0"
    disable_nagle_algorithm = True
    timeout = 120  # idle keep-alive connections are closed after this
    server: _HTTPServer

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._write(api.ApiError(413, "Payload too large").response(), close=True)
            return
        body = self.rfile.read(length) if length else b""
        self._write(self.server.standin.handle(self.command, self.path, self.headers, body))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def _write(self, response: api.ApiResponse, *, close: bool = False) -> None:
        payload = b"" if response.body is None and response.status == 204 else json.dumps(
            response.body, separators=(",", ":")).encode()
        self.send_response_only(response.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for key, value in response.headers.items():
            self.send_header(key, value)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers_and_body(payload)

    def end_headers_and_body(self, payload: bytes) -> None:
        # One write for head and body: no small-packet stalls on keep-alive connections.
        self._headers_buffer.append(b"\r\n")
        self._headers_buffer.append(payload)
        self.wfile.write(b"".join(self._headers_buffer))
        self._headers_buffer = []

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # the request log records calls; stderr lines would be noise (and could leak query strings)
