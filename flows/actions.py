"""Turning one action into a concrete request (rendering templates), and sending it.

``build_request`` is shared by execution and test-run, so a test-run shows exactly what
execution would send. ``send_request`` returns an ``Outcome`` classified for the retry policy:
429, 5xx, timeouts and connection errors are retryable; everything else is final.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from django.conf import settings

from addons.variants import Feature
from flows import ssrf
from flows.definition import IDEMPOTENT_METHODS
from flows.redaction import mask_secrets, redact_headers
from flows.templates import Context, Placeholder, render


class StepError(Exception):
    """A step cannot be sent (bad template, refused URL, plan or setting): final, not retried."""


@dataclass
class PreparedRequest:
    action_type: str
    method: str
    url: str  # absolute URL (clockify: the installation's base URL + path)
    path: str = ""  # clockify: path relative to the base
    base: str = "backend"
    operation_id: str = ""
    query: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    has_body: bool = False
    sign: bool = False
    # Values of the flow secrets this request was rendered with: sent, never recorded or shown.
    secrets: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def idempotent(self) -> bool:
        return self.method in IDEMPOTENT_METHODS

    def summary(self, *, redact: bool = True) -> dict[str, Any]:
        return mask_secrets(self._summary(redact=redact), self.secrets)

    def _summary(self, *, redact: bool) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.action_type, "method": self.method, "url": self.url}
        if self.operation_id:
            out["operation"] = self.operation_id
        if self.query:
            out["query"] = self.query
        if self.headers:
            out["headers"] = redact_headers(self.headers) if redact else dict(self.headers)
        if self.has_body:
            out["body"] = _bounded(self.body)
        if self.sign:
            out["signed"] = "Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature)"
        return out


def _bounded(value: Any, limit: int = 8192) -> Any:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    if len(text) <= limit:
        return value
    return {"truncated": True, "preview": text[:limit]}


@dataclass
class Outcome:
    ok: bool
    retryable: bool
    status_code: int | None = None
    response: Any = None
    truncated: bool = False
    duration_ms: int = 0
    error: str = ""
    retry_after: float | None = None


def installation_fields(installation) -> dict[str, Any]:
    """What ``{{installation.*}}`` may read: identifiers and URLs, never tokens."""
    return {
        "workspaceId": installation.workspace_id,
        "addonId": installation.addon_id,
        "addonUserId": installation.addon_user_id,
        "variant": installation.variant,
        "plan": installation.variant_spec.plan.value,
        "backendUrl": installation.backend_url,
        "reportsUrl": installation.reports_url,
    }


_OPERATIONS: dict[str, tuple[float, Any]] = {}
_OPERATION_TTL_SECONDS = 30.0


def _operation(ref: str, installation):
    # get_catalog() asks the database whether a newer document was synced (one query); a run
    # step does not need that freshness, so resolved operations are kept for a short while.
    now = time.monotonic()
    cached = _OPERATIONS.get(ref)
    if cached is not None and cached[0] > now:
        return cached[1]
    from explorer.catalog import get_catalog

    operation = get_catalog(installation).resolve(ref)
    if operation is None:
        raise StepError(f"unknown operation {ref!r}")
    if len(_OPERATIONS) > 2048:
        _OPERATIONS.clear()
    _OPERATIONS[ref] = (now + _OPERATION_TTL_SECONDS, operation)
    return operation


def _base_url(installation, host: str) -> str:
    field_name = {"backend": "backend_url", "reports": "reports_url", "pto": "pto_url",
                  "locations": "locations_url", "screenshots": "screenshots_url"}.get(host, "backend_url")
    return getattr(installation, field_name, "").rstrip("/")


def build_request(action: dict[str, Any], ctx: Context, *, installation, effective: dict[str, Any]) -> PreparedRequest:
    """Render one action; raises ``TemplateError`` (missing path) or ``StepError``."""
    kind = action.get("type")
    if kind == "clockify":
        if not installation.variant_spec.allows(Feature.FLOW_CLOCKIFY_ACTIONS):
            raise StepError("clockify actions are not available on this plan")
        operation = _operation(action.get("operation", ""), installation)
        if not installation.variant_spec.api_access.allows(operation.method, operation.path):
            raise StepError(f"{operation.operation_id} needs a scope this add-on does not hold")
        params = render(action.get("params") or {}, ctx)
        params["workspaceId"] = installation.workspace_id  # a flow acts on its own workspace only
        path = operation.path
        for name in operation.path_param_names:
            if name not in params:
                raise StepError(f"path parameter {name} is missing")
            value = params[name]
            if not isinstance(value, (str, int)) or isinstance(value, bool) or value == "":
                raise StepError(f"path parameter {name} must be a non-empty string")
            # Encoded whole: an id from an event can never add path segments ("../").
            encoded = value if isinstance(value, Placeholder) else quote(str(value), safe="")
            path = path.replace("{" + name + "}", encoded)
        query = render(action.get("query") or {}, ctx)
        if not isinstance(query, dict):
            raise StepError("query must render to an object")
        has_body = "body" in action
        return PreparedRequest(
            action_type="clockify", method=operation.method, url=_base_url(installation, operation.host) + path,
            path=path, base=operation.host, operation_id=operation.operation_id, query=query,
            body=render(action["body"], ctx) if has_body else None, has_body=has_body,
        )
    if kind == "http":
        if not installation.variant_spec.allows(Feature.FLOW_HTTP_ACTIONS):
            raise StepError("http actions are not available on this plan")
        if not effective.get("enable_generic_http_actions"):
            raise StepError("http actions are off (setting enable_generic_http_actions)")
        url = render(action.get("url", ""), ctx)
        if not isinstance(url, str):
            raise StepError("url must render to a string")
        if any(ch in url for ch in "\r\n\t "):
            raise StepError("url contains whitespace or line breaks after rendering")
        headers = render(action.get("headers") or {}, ctx)
        headers = {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in headers.items()}
        for name, value in headers.items():
            if "\r" in value or "\n" in value:  # header injection through event data
                raise StepError(f"header {name} contains a line break after rendering")
        has_body = "body" in action
        return PreparedRequest(
            action_type="http", method=action.get("method", "POST"), url=url, headers=headers,
            body=render(action["body"], ctx) if has_body else None, has_body=has_body,
            sign=bool(action.get("sign")), secrets=dict(ctx.used_secrets),
        )
    raise StepError(f"unknown action type {kind!r}")


# --- sending ---------------------------------------------------------------------------------------

def _parse_body(raw: bytes, content_type: str, limit: int) -> tuple[Any, bool]:
    if not raw:
        return None, False
    if len(raw) > limit:
        return {"text": raw[: min(limit, 4096)].decode("utf-8", "replace")}, True
    text = raw.decode("utf-8", "replace")
    if "json" in content_type or text[:1] in "{[":
        try:
            return json.loads(text), False
        except ValueError:
            pass
    return {"text": text}, False


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _classify(status: int) -> tuple[bool, bool]:
    ok = 200 <= status < 300
    return ok, (status == 429 or status >= 500)


def step_timeout() -> float:
    return float(getattr(settings, "FLOW_STEP_TIMEOUT_SECONDS", 10.0))


def response_limit() -> int:
    return int(getattr(settings, "FLOW_STEP_RESPONSE_MAX_BYTES", 65536))


def send_clockify(request: PreparedRequest, *, installation) -> Outcome:
    from addons.clockify.client import ClockifyClient, ClockifyError

    client = ClockifyClient.for_installation(installation)
    # One retry policy, not two stacked: the step's attempts are recorded and bounded by the
    # run's deadline, so the client sends once (it still waits for the shared rate-limit slot).
    client.max_retries = 0
    client.timeout = (min(5.0, step_timeout()), step_timeout())
    started = time.monotonic()
    try:
        response = client.request(request.method, request.path, params=request.query or None,
                                  json=request.body if request.has_body else None, base=request.base)
    except ClockifyError as exc:
        retryable = not isinstance(exc, ValueError)  # a refused URL is final
        return Outcome(False, retryable, duration_ms=int((time.monotonic() - started) * 1000), error=str(exc))
    body, truncated = _parse_body(response.body, response.headers.get("Content-Type", ""), response_limit())
    ok, retryable = _classify(response.status)
    error = "" if ok else f"Clockify answered HTTP {response.status}"
    return Outcome(ok, retryable, response.status, body, truncated, int(response.elapsed_ms), error,
                   _retry_after(response.headers.get("Retry-After")))


def standard_webhooks_headers(secret: str, message_id: str, payload: bytes, timestamp: int | None = None) -> dict:
    """``webhook-id``, ``webhook-timestamp``, ``webhook-signature`` per standardwebhooks.com."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + payload
    signature = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return {"webhook-id": message_id, "webhook-timestamp": str(timestamp), "webhook-signature": f"v1,{signature}"}


def encode_body(request: PreparedRequest) -> tuple[bytes | None, dict[str, str]]:
    if not request.has_body:
        return None, {}
    if isinstance(request.body, str):
        return request.body.encode(), {"Content-Type": "text/plain; charset=utf-8"}
    return json.dumps(request.body, separators=(",", ":")).encode(), {"Content-Type": "application/json"}


def send_http(request: PreparedRequest, *, effective: dict[str, Any], message_id: str,
              signing_secret: str = "") -> Outcome:
    """Send an http action; what comes back is recorded, so a flow secret it echoes is masked."""
    outcome = _send_http(request, effective=effective, message_id=message_id, signing_secret=signing_secret)
    if request.secrets:
        outcome.response = mask_secrets(outcome.response, request.secrets)
        outcome.error = mask_secrets(outcome.error, request.secrets)
    return outcome


def _send_http(request: PreparedRequest, *, effective: dict[str, Any], message_id: str,
               signing_secret: str) -> Outcome:
    body, default_headers = encode_body(request)
    headers = {"User-Agent": "clockify-addon-flows/1.0", **default_headers, **request.headers}
    if request.sign:
        if not signing_secret:
            return Outcome(False, False, error="the flow has no signing secret")
        headers.update(standard_webhooks_headers(signing_secret, message_id, body or b""))
    # A stable id lets receivers drop a duplicate if a retry follows a lost response.
    headers.setdefault("Idempotency-Key", message_id)
    started = time.monotonic()
    try:
        result = ssrf.send(request.method, request.url, headers=headers, body=body,
                           allowed_domains=str(effective.get("http_action_allowed_domains", "*")),
                           timeout=step_timeout(), max_bytes=response_limit())
    except ssrf.SSRFError as exc:
        return Outcome(False, False, duration_ms=int((time.monotonic() - started) * 1000), error=str(exc))
    except ssrf.TransientHTTPError as exc:
        return Outcome(False, True, duration_ms=int((time.monotonic() - started) * 1000), error=str(exc))
    body_value, too_big = _parse_body(result.body, result.headers.get("content-type", ""), response_limit())
    ok, retryable = _classify(result.status)
    error = ""
    if 300 <= result.status < 400:
        error = f"HTTP {result.status}: redirects are not followed"
    elif not ok:
        error = f"HTTP {result.status}"
    return Outcome(ok, retryable, result.status, body_value, too_big or result.truncated, result.elapsed_ms, error,
                   _retry_after(result.headers.get("retry-after")))

