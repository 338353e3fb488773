"""Helpers for driving the webhook endpoints with correctly signed (and forged) requests."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import pytest

from addons.catalog import EVENTS
from addons.manifest import webhook_path
from webhooks import extensions, lookup, ratelimit


@pytest.fixture(autouse=True)
def _fresh_hot_path_caches():
    lookup.clear_caches()
    ratelimit.reset_leases()
    yield
    lookup.clear_caches()
    ratelimit.reset_leases()


@pytest.fixture
def only_processors(monkeypatch):
    """Run only the given processors (other apps register theirs at start-up)."""

    def _set(**named):
        monkeypatch.setattr(extensions, "_PROCESSORS", dict(named))

    _set()
    return _set


def sample_body(event: str, **overrides: Any) -> dict[str, Any]:
    spec = EVENTS[event]
    body = {"id": f"{spec.entity_type}-1", "workspaceId": "ws-body", "userId": "user-1", "projectId": "proj-1",
            "name": "Secret Person", "n": time.monotonic_ns()}
    body.update(overrides)
    return body


def post_clockify(client, ws, event: str, body: Any = None, *, token: str | None = "default",
                  event_type: str | None = "default", slug: str | None = None, variant: str | None = None):
    if body is None:
        body = sample_body(event)
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {}
    if token == "default":
        token = ws.minter.webhook_token()
    if token is not None:
        headers["HTTP_CLOCKIFY_SIGNATURE"] = token
    if event_type == "default":
        event_type = event
    if event_type is not None:
        headers["HTTP_CLOCKIFY_WEBHOOK_EVENT_TYPE"] = event_type
    path = f"/webhooks/{slug}" if slug else webhook_path(event)
    return client.post(f"/{variant or ws.variant.slug}{path}", data=raw, content_type="application/json", **headers)


def standard_headers(secret: str, body: bytes, *, webhook_id: str = "msg_1", timestamp: int | None = None,
                     extra_signatures: str = "") -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    key = base64.b64decode(secret.removeprefix("whsec_"))
    sig = base64.b64encode(hmac.new(key, f"{webhook_id}.{ts}.".encode() + body, hashlib.sha256).digest()).decode()
    signatures = " ".join(s for s in (extra_signatures, f"v1,{sig}") if s)
    return {"HTTP_WEBHOOK_ID": webhook_id, "HTTP_WEBHOOK_TIMESTAMP": ts, "HTTP_WEBHOOK_SIGNATURE": signatures}


def x_signature_headers(secret: str, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    """``X-Signature: sha256=<hex HMAC(secret, "<timestamp>.<body>")>`` with ``X-Signature-Timestamp``."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return {"HTTP_X_SIGNATURE": f"sha256={digest}", "HTTP_X_SIGNATURE_TIMESTAMP": ts}
