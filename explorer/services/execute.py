"""Executing one catalogue operation for an iframe user, and logging it (tokens redacted from both)."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings

from addons.clockify.client import (
    ClockifyClient, ClockifyError, ClockifyResponseTooLarge, ClockifyTimeout, ClockifyURLRefused,
)
from addons.iframe_auth import IframeUser
from addons.redaction import redact_credentials
from addons.scopes import scope_for
from addons.variants import Feature
from explorer.catalog import Operation, get_catalog
from explorer.errors import ConfirmationRequired, InstallationUnavailable, NotAllowed, OperationNotFound
from explorer.models import ExplorerCall
from explorer.redaction import redact_body
from explorer.validation import PreparedCall, prepare_call
from installations.crypto import DecryptionError
from installations.models import Installation

logger = logging.getLogger("explorer.execute")

# Response headers worth showing; everything else (cookies, internal routing) stays behind.
SAFE_RESPONSE_HEADERS = (
    "content-type", "content-length", "last-page", "retry-after", "date", "x-request-id",
    "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset",
)
TRUNCATION_MARKER = "\n…[truncated: {shown} of {total} bytes shown]"


def _response_limit() -> int:
    return int(getattr(settings, "EXPLORER_RESPONSE_MAX_BYTES", 256 * 1024))


def _log_limit() -> int:
    return int(getattr(settings, "EXPLORER_LOG_BODY_BYTES", 2048))


def _call_deadline() -> float:
    """The whole call, retries included, stays below the web worker's timeout."""
    return float(getattr(settings, "EXPLORER_EXECUTE_TIMEOUT_SECONDS", 20.0))


def _failure_code(exc: ClockifyError) -> str:
    if isinstance(exc, ClockifyTimeout):
        return "clockify_timeout"
    if isinstance(exc, ClockifyResponseTooLarge):
        return "response_too_large"
    return "clockify_unreachable"


@dataclass
class ExecutionResult:
    call_id: int
    operation_id: str
    method: str
    path: str
    host: str
    status: int | None
    latency_ms: float
    attempts: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    body_bytes: int = 0
    body_truncated: bool = False
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        return data


def operation_authorize(*, installation: Installation, user: IframeUser, operation: Operation,
                        confirm: bool = False) -> None:
    """Plan and role gating from the registry; raises ``NotAllowed`` / ``ConfirmationRequired``."""
    variant = installation.variant_spec
    if user.installation.pk != installation.pk:
        raise NotAllowed("this user belongs to another installation", code="wrong_installation")
    if not (variant.allows(Feature.EXPLORER_READ) or variant.allows(Feature.EXPLORER_WRITE)):
        raise NotAllowed("the API explorer is not part of this plan", code="plan_forbids_explorer")
    if not variant.api_access.allows(operation.method, operation.path):
        raise NotAllowed(f"{variant.name} does not hold the scope this operation needs "
                         f"({scope_for(operation.method, operation.path) or 'unknown'})", code="scope_not_declared")
    if operation.is_read_only:
        return
    if not variant.allows(Feature.EXPLORER_WRITE):
        raise NotAllowed(f"{variant.name} runs read-only (GET) operations only", code="plan_read_only")
    if not user.is_admin:
        raise NotAllowed("write operations need a workspace OWNER or ADMIN", code="admin_required")
    if confirm is not True:
        raise ConfirmationRequired(f"{operation.method} changes data in Clockify: send \"confirm\": true to run it")


def _cut(text: str, limit: int) -> str:
    raw = text.encode()
    if len(raw) <= limit:
        return text
    return raw[:limit].decode(errors="ignore") + TRUNCATION_MARKER.format(shown=limit, total=len(raw))


def _present_body(raw: bytes, content_type: str, limit: int) -> tuple[Any, bool]:
    """The body for the caller: parsed JSON when it fits the bound, else text with a marker."""
    if not raw:
        return None, False
    if len(raw) > limit:
        shown = raw[:limit].decode(errors="ignore")
        return shown + TRUNCATION_MARKER.format(shown=limit, total=len(raw)), True
    if "json" in content_type or raw[:1] in (b"{", b"["):
        try:
            return json.loads(raw), False
        except ValueError:
            pass
    return raw.decode(errors="replace"), False


def _request_summary(prepared: PreparedCall | None, body: Any) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    if prepared is not None:
        summary["params"] = redact_credentials(prepared.path_params)
        summary["query"] = redact_credentials(prepared.query)
    if body is not None:
        try:
            summary["body"] = _cut(json.dumps(redact_credentials(body)), _log_limit())
        except (TypeError, ValueError):
            summary["body"] = "[not JSON]"
    return summary


def _record(*, installation: Installation, user: IframeUser, operation: Operation, prepared: PreparedCall | None,
            body: Any, status: int | None, latency_ms: float, attempts: int, raw: bytes, error: str,
            admin_token: bool) -> ExplorerCall:
    return ExplorerCall.objects.create(
        installation=installation, user_id=user.user_id[:64], used_installation_token=admin_token,
        operation_id=operation.operation_id[:200], method=operation.method, path=operation.path[:500],
        host=operation.host, request_summary=_request_summary(prepared, body), status_code=status,
        latency_ms=int(round(latency_ms)), attempts=attempts,
        response_excerpt=_cut(raw.decode(errors="replace"), _log_limit()) if raw else "",
        response_bytes=len(raw), error=error[:200],
    )


def operation_execute(*, installation: Installation, user: IframeUser, operation_id: str,
                      path_params: dict[str, Any] | None = None, query: dict[str, Any] | None = None,
                      body: Any = None, confirm: bool = False) -> ExecutionResult:
    """Validate, gate, send one catalogue operation to Clockify and log it.

    Admins (OWNER/ADMIN) call with the installation token, everyone else with their own user
    token, so Clockify applies their own permissions. Raises an ``ExplorerError`` for anything
    refused before sending; a transport failure comes back as a result with ``status=None``.
    """
    operation = get_catalog(installation).resolve(operation_id)
    if operation is None:
        raise OperationNotFound(f"{operation_id!r} is not an operation of the catalogue")
    operation_authorize(installation=installation, user=user, operation=operation, confirm=confirm)
    if not installation.is_active:
        raise InstallationUnavailable("the add-on is not active on this workspace")
    prepared = prepare_call(operation, path_params=path_params, query=query, body=body,
                            context={"workspaceId": installation.workspace_id, "userId": user.user_id})
    admin_token = user.is_admin
    try:
        client = ClockifyClient.for_installation(installation, user_token=None if admin_token else user.token)
    except DecryptionError:
        raise InstallationUnavailable("the installation has no usable token") from None
    client.deadline_seconds = _call_deadline()
    if operation.host not in client.base_urls:
        raise InstallationUnavailable(f"the installation has no {operation.host} URL for this operation",
                                      code="host_unavailable")
    try:
        response = client.request(operation.method, prepared.path, params=prepared.query or None,
                                  json=prepared.body, base=operation.host)
    except ClockifyURLRefused:
        raise NotAllowed("the request would leave this installation's Clockify URLs", code="url_refused") from None
    except ClockifyError as exc:
        code = _failure_code(exc)
        call = _record(installation=installation, user=user, operation=operation, prepared=prepared,
                       body=prepared.body, status=None, latency_ms=0, attempts=client.max_retries + 1, raw=b"",
                       error=code, admin_token=admin_token)
        logger.warning("explorer_call_failed", extra={"installation_id": installation.pk,
                                                      "operation_id": operation.operation_id,
                                                      "error": type(exc).__name__})
        return ExecutionResult(call_id=call.pk, operation_id=operation.operation_id, method=operation.method,
                               path=prepared.path, host=operation.host, status=None, latency_ms=0,
                               attempts=call.attempts, error=code)

    content_type = (response.headers.get("Content-Type", "") or "").lower()
    safe_body, _ = redact_body(response.body, content_type)  # never a token, shown or kept
    shown, truncated = _present_body(safe_body, content_type, _response_limit())
    # Lower-case keys whatever the server's casing (the lookup is case-insensitive).
    headers = {name: response.headers[name] for name in SAFE_RESPONSE_HEADERS if name in response.headers}
    call = _record(installation=installation, user=user, operation=operation, prepared=prepared,
                   body=prepared.body, status=response.status, latency_ms=response.elapsed_ms,
                   attempts=response.attempts, raw=safe_body, error="", admin_token=admin_token)
    logger.info("explorer_call", extra={"installation_id": installation.pk, "operation_id": operation.operation_id,
                                        "status": response.status, "latency_ms": response.elapsed_ms})
    return ExecutionResult(
        call_id=call.pk, operation_id=operation.operation_id, method=operation.method, path=prepared.path,
        host=operation.host, status=response.status, latency_ms=response.elapsed_ms, attempts=response.attempts,
        headers=headers, body=shown, body_bytes=len(response.body), body_truncated=truncated,
    )
