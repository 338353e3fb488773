"""The stand-in's webhooks API (``createWebhook``, ``deleteWebhook``, ``getWebhook``, ``getWebhooks``,
``getAddonWebhooks``) and the delivery of workspace webhooks, shaped after Clockify's OpenAPI
document (``WebhookDtoV1``, ``WebhooksDtoV1``, ``CreateWebhookRequestV1``).

A workspace holds add-on webhooks (registered by the Clockify side at install, as Clockify does
from the manifest) and workspace webhooks (created through the API). Creating one past the
workspace's limit (``WorkspaceData.webhook_limit``, 300 as on ENTERPRISE) is refused with 400,
as over a plan's allowance. ``deliver`` posts an event to every workspace webhook registered for
it, the way Clockify does: the webhook's own ``authToken`` in ``clockify-signature``.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

import jwt
import requests

from clockify_standin.apicore import ApiError, ApiResponse, Request, body_object
from clockify_standin.data import WorkspaceData

ADDON, USER_CREATED = "ADDON", "USER_CREATED"
TRIGGER_SOURCE_TYPES = ("PROJECT_ID", "USER_ID", "TAG_ID", "TASK_ID", "WORKSPACE_ID", "ASSIGNMENT_ID", "EXPENSE_ID")
# CreateWebhookRequestV1.webhookEvent: every event the workspace-webhook API knows.
WEBHOOK_EVENTS = frozenset({
    "NEW_PROJECT", "NEW_TASK", "NEW_CLIENT", "NEW_TIMER_STARTED", "TIMER_STOPPED", "TIME_ENTRY_UPDATED",
    "TIME_ENTRY_DELETED", "TIME_ENTRY_SPLIT", "NEW_TIME_ENTRY", "TIME_ENTRY_RESTORED", "NEW_TAG",
    "USER_DELETED_FROM_WORKSPACE", "USER_JOINED_WORKSPACE", "USER_DEACTIVATED_ON_WORKSPACE",
    "USER_ACTIVATED_ON_WORKSPACE", "USER_EMAIL_CHANGED", "USER_UPDATED", "NEW_INVOICE", "INVOICE_UPDATED",
    "NEW_APPROVAL_REQUEST", "APPROVAL_REQUEST_STATUS_UPDATED", "TIME_OFF_REQUESTED", "TIME_OFF_REQUEST_UPDATED",
    "TIME_OFF_REQUEST_APPROVED", "TIME_OFF_REQUEST_REJECTED", "TIME_OFF_REQUEST_STARTED",
    "TIME_OFF_REQUEST_WITHDRAWN", "BALANCE_UPDATED", "TAG_UPDATED", "TAG_DELETED", "TASK_UPDATED",
    "CLIENT_UPDATED", "TASK_DELETED", "CLIENT_DELETED", "EXPENSE_RESTORED", "ASSIGNMENT_CREATED",
    "ASSIGNMENT_DELETED", "ASSIGNMENT_PUBLISHED", "ASSIGNMENT_UPDATED", "EXPENSE_CREATED", "EXPENSE_DELETED",
    "EXPENSE_UPDATED", "PROJECT_UPDATED", "PROJECT_DELETED", "USER_GROUP_CREATED", "USER_GROUP_UPDATED",
    "USER_GROUP_DELETED", "USERS_INVITED_TO_WORKSPACE", "LIMITED_USERS_ADDED_TO_WORKSPACE", "COST_RATE_UPDATED",
    "BILLABLE_RATE_UPDATED",
})
_INTERNAL = ("_type", "_addonId")


def _dto(hook: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in hook.items() if k not in _INTERNAL}


def _listing(hooks: list[dict[str, Any]], ws: WorkspaceData) -> dict[str, Any]:
    return {"webhooks": [_dto(h) for h in hooks], "workspaceWebhookCount": _user_created_count(ws)}


def _user_created_count(ws: WorkspaceData) -> int:
    return sum(1 for h in ws.webhooks.values() if h["_type"] == USER_CREATED)


def _mint_token(ws: WorkspaceData, webhook_id: str) -> str:
    """A JWT only this stand-in can check: the platform must treat it as an opaque secret."""
    return jwt.encode({"iss": "clockify", "sub": webhook_id, "workspaceId": ws.workspace_id, "type": "webhook",
                       "jti": secrets.token_hex(8)}, ws.webhook_secret, algorithm="HS256")


def _new_hook(ws: WorkspaceData, *, event: str, url: str, name: str, kind: str, user_id: str,
              addon_id: str = "", token: str | None = None, trigger_type: str = "WORKSPACE_ID",
              trigger_source: list[str] | None = None) -> dict[str, Any]:
    hook_id = ws.ids.next()
    return {
        "id": hook_id, "name": name, "url": url, "webhookEvent": event, "userId": user_id,
        "workspaceId": ws.workspace_id, "triggerSourceType": trigger_type,
        "triggerSource": list(trigger_source if trigger_source is not None else [ws.workspace_id]),
        "authToken": token or _mint_token(ws, hook_id), "enabled": True, "deliveryEnabled": True,
        "planEnabled": True, "_type": kind, "_addonId": addon_id,
    }


def _validate_create(body: dict[str, Any]) -> None:
    missing = [f for f in ("triggerSource", "triggerSourceType", "url", "webhookEvent") if f not in body]
    if missing:
        raise ApiError(400, f"missing required fields: {', '.join(missing)}")
    if body["webhookEvent"] not in WEBHOOK_EVENTS:
        raise ApiError(400, f"webhookEvent: unknown event {body['webhookEvent']!r}")
    if body["triggerSourceType"] not in TRIGGER_SOURCE_TYPES:
        raise ApiError(400, "triggerSourceType: not a trigger source type")
    if not isinstance(body["triggerSource"], list) or not all(isinstance(s, str) for s in body["triggerSource"]):
        raise ApiError(400, "triggerSource must be a list of ids")
    if not isinstance(body["url"], str) or not body["url"].startswith(("http://", "https://")):
        raise ApiError(400, "url must be an http(s) URL")
    name = body.get("name")
    if name is not None and (not isinstance(name, str) or not 2 <= len(name) <= 30):
        raise ApiError(400, "name must be 2 to 30 characters")


def webhooks_collection(req: Request, ws: WorkspaceData) -> ApiResponse:
    """``/v1/workspaces/{ws}/webhooks``: GET (``?type=``) lists, POST creates (``createWebhook``)."""
    if req.method == "GET":
        kind = req.query.get("type")
        if kind not in (None, "", ADDON, USER_CREATED, "SYSTEM"):
            raise ApiError(400, "type must be USER_CREATED, SYSTEM or ADDON")
        with ws.lock:
            hooks = [h for h in ws.webhooks.values() if not kind or h["_type"] == kind]
        return ApiResponse(200, _listing(hooks, ws))
    if req.method == "POST":
        body = body_object(req)
        _validate_create(body)
        with ws.lock:
            if _user_created_count(ws) >= ws.webhook_limit:
                raise ApiError(400, f"Webhook limit reached: the workspace's plan allows {ws.webhook_limit} webhooks",
                               code=501)
            hook = _new_hook(ws, event=body["webhookEvent"], url=body["url"], name=str(body.get("name") or ""),
                             kind=USER_CREATED, user_id=str(req.claims.get("user") or ws.owner_id),
                             trigger_type=body["triggerSourceType"], trigger_source=body["triggerSource"])
            ws.webhooks[hook["id"]] = hook
        return ApiResponse(201, _dto(hook))
    raise ApiError(405, f"{req.method} not allowed here")


def webhook_item(req: Request, ws: WorkspaceData, webhook_id: str) -> ApiResponse:
    with ws.lock:
        hook = ws.webhooks.get(webhook_id)
        if hook is None or hook["_type"] != USER_CREATED:
            raise ApiError(404, f"Webhook {webhook_id} not found")
        if req.method == "GET":
            return ApiResponse(200, _dto(hook))
        if req.method == "DELETE":
            del ws.webhooks[webhook_id]
            return ApiResponse(200)
    raise ApiError(405, f"{req.method} not allowed here")


def addon_webhooks(req: Request, ws: WorkspaceData, addon_id: str) -> ApiResponse:
    """``getAddonWebhooks``: the installation's add-on webhooks, each with its ``authToken``.
    PUT is a stand-in extension: the Clockify side registers what it sent in INSTALLED."""
    if req.claims.get("addonId") != addon_id:
        raise ApiError(403, "Access denied: the token belongs to another add-on")
    if req.method == "GET":
        with ws.lock:
            hooks = [h for h in ws.webhooks.values() if h["_type"] == ADDON and h["_addonId"] == addon_id]
        return ApiResponse(200, _listing(hooks, ws))
    if req.method == "PUT":
        items = body_object(req).get("webhooks")
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise ApiError(400, "webhooks must be a list of {webhookEvent, url, authToken}")
        set_addon_webhooks(ws, addon_id, items, user_id=str(req.claims.get("user") or ws.owner_id))
        return addon_webhooks(Request("GET", req.segments, {}, None, ws, req.claims), ws, addon_id)
    raise ApiError(405, f"{req.method} not allowed here")


def set_addon_webhooks(ws: WorkspaceData, addon_id: str, items: list[dict[str, Any]], *, user_id: str) -> None:
    """Replace the add-on's webhooks with ``[{webhookEvent, url, authToken}]`` (as installed)."""
    with ws.lock:
        for hook_id in [k for k, h in ws.webhooks.items() if h["_type"] == ADDON and h["_addonId"] == addon_id]:
            del ws.webhooks[hook_id]
        for item in items:
            hook = _new_hook(ws, event=str(item["webhookEvent"]), url=str(item["url"]), name=str(item["webhookEvent"]),
                             kind=ADDON, user_id=user_id, addon_id=addon_id, token=str(item["authToken"]))
            ws.webhooks[hook["id"]] = hook


def deliver(ws: WorkspaceData, event: str, body: dict[str, Any], *, timeout: float = 10.0) -> list[tuple[str, int]]:
    """POST ``body`` to every enabled workspace webhook for ``event``; (webhook id, HTTP status) each."""
    with ws.lock:
        targets = [dict(h) for h in ws.webhooks.values()
                   if h["_type"] == USER_CREATED and h["webhookEvent"] == event and h["planEnabled"] and h["enabled"]]
    results = []
    raw = json.dumps(body).encode()
    for hook in targets:
        response = requests.post(hook["url"], data=raw, timeout=timeout, allow_redirects=False, headers={
            "Content-Type": "application/json", "clockify-signature": hook["authToken"],
            "clockify-webhook-event-type": event,
        })
        results.append((hook["id"], response.status_code))
    return results
