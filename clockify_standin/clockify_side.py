"""The Clockify end of the add-on protocol: reads a variant's manifest, sends lifecycle calls and
signed webhooks, and mints user tokens for the iframe pages.

Works over real HTTP (``requests``; the demo, ``live_server`` tests) or in-process through a
Django test ``Client`` (``http=client``). Tokens are signed with the stand-in's private key; the
platform trusts them only when given the matching public key (``CLOCKIFY_PUBLIC_KEY``).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests

from clockify_standin.data import WorkspaceData
from clockify_standin.payloads import webhook_body
from clockify_standin.signing import TokenMinter

if TYPE_CHECKING:
    from clockify_standin.server import StandinServer

# Clockify's workspace roles (ADMIN: the short form some tokens carry).
ROLES = ("OWNER", "WORKSPACE_ADMIN", "ADMIN", "TEAM_MANAGER", "PROJECT_MANAGER", "USER")


@dataclass
class HttpResult:
    status_code: int
    content: bytes
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.content)


class _RequestsHttp:
    def __init__(self, session: Any, timeout: float) -> None:
        self.session, self.timeout = session, timeout

    def request(self, method: str, url: str, *, body: bytes | None, headers: dict[str, str]) -> HttpResult:
        r = self.session.request(method, url, data=body, headers=headers, timeout=self.timeout)
        return HttpResult(r.status_code, r.content, dict(r.headers))


class _DjangoClientHttp:
    """Drives the Django test client with the same calls (the host part of URLs is dropped)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def request(self, method: str, url: str, *, body: bytes | None, headers: dict[str, str]) -> HttpResult:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        content_type = headers.pop("Content-Type", "application/json")
        call = getattr(self.client, method.lower())
        kwargs: dict[str, Any] = {"headers": headers}
        if method.upper() != "GET":
            kwargs.update(data=body or b"", content_type=content_type)
        r = call(path, **kwargs)
        return HttpResult(r.status_code, r.content, {k: v for k, v in r.items()})


def _adapter(http: Any, timeout: float) -> Any:
    if http is None or http is requests:
        return _RequestsHttp(requests.Session(), timeout)
    if hasattr(http, "request") and hasattr(http, "mount"):  # a requests.Session
        return _RequestsHttp(http, timeout)
    if hasattr(http, "request") and hasattr(http, "generic"):  # django.test.Client
        return _DjangoClientHttp(http)
    return http  # anything with request(method, url, *, body, headers) -> HttpResult


class ClockifySide:
    def __init__(self, platform_base_url: str, variant_slug: str, *, private_pem: str, backend_url: str,
                 workspace_id: str, addon_id: str, addon_key: str | None = None, http: Any = None,
                 standin: "StandinServer | None" = None, sync_standin_over_http: bool = False,
                 owner_user_id: str | None = None, workspace_data: WorkspaceData | None = None,
                 timeout: float = 15.0) -> None:
        self.platform_base_url = platform_base_url.rstrip("/")
        self.variant_slug = variant_slug
        self.addon_base_url = f"{self.platform_base_url}/{variant_slug}"
        self.http = _adapter(http, timeout)
        self.private_pem = private_pem
        self.backend_url = backend_url.rstrip("/")
        self.workspace_id = workspace_id
        self.addon_id = addon_id
        self.standin = standin
        self.sync_standin_over_http = sync_standin_over_http
        self._owner_user_id = owner_user_id
        # The workspace's entities (a separate stand-in process seeds the same data deterministically).
        self.workspace_data = workspace_data
        self._manifest: dict[str, Any] | None = None
        self._addon_key = addon_key
        self.installation_token: str | None = None
        self.webhook_tokens: dict[str, str] = {}  # event -> that webhook's authToken
        self.settings_values: dict[str, Any] = {}

    # --- the manifest ------------------------------------------------------------------------------
    @property
    def manifest(self) -> dict[str, Any]:
        if self._manifest is None:
            r = self.http.request("GET", f"{self.addon_base_url}/manifest", body=None, headers={})
            if r.status_code != 200:
                raise RuntimeError(f"manifest of {self.variant_slug}: HTTP {r.status_code}")
            self._manifest = r.json()
            self.settings_values = {s["id"]: s.get("value") for s in self._manifest_settings()}
        return self._manifest

    @property
    def addon_key(self) -> str:
        return self._addon_key or self.manifest["key"]

    @property
    def minter(self) -> TokenMinter:
        return TokenMinter(self.private_pem, addon_key=self.addon_key, workspace_id=self.workspace_id,
                           addon_id=self.addon_id, backend_url=self.backend_url)

    @property
    def owner_user_id(self) -> str:
        if self._owner_user_id:
            return self._owner_user_id
        workspace = self._workspace()
        return workspace.owner_id if workspace is not None else "owner-user"

    def _workspace(self) -> WorkspaceData | None:
        if self.workspace_data is not None:
            return self.workspace_data
        if self.standin is not None and self.standin.has_workspace(self.workspace_id):
            return self.standin.workspace(self.workspace_id)
        return None

    def _manifest_settings(self) -> list[dict[str, Any]]:
        settings = self.manifest.get("settings") or {}
        out = []
        for tab in settings.get("tabs") or []:
            for group in tab.get("groups") or []:
                out.extend(group.get("settings") or [])
            out.extend(tab.get("settings") or [])
        return out

    def lifecycle_url(self, lifecycle_type: str) -> str:
        path = next(h["path"] for h in self.manifest["lifecycle"] if h["type"] == lifecycle_type)
        return self.addon_base_url + path

    def webhook_url(self, event: str) -> str:
        return self.addon_base_url + self.webhook_path(event)

    def webhook_path(self, event: str) -> str:
        for hook in self.manifest["webhooks"]:
            if hook["event"] == event:
                return hook["path"]
        raise KeyError(f"{self.variant_slug} does not subscribe to {event}")

    @property
    def events(self) -> list[str]:
        return [h["event"] for h in self.manifest["webhooks"]]

    def sidebar_url(self, token: str | None = None) -> str:
        path = next(c["path"] for c in self.manifest["components"] if c["type"] == "sidebar")
        return f"{self.addon_base_url}{path}?auth_token={token or self.user_token()}"

    # --- lifecycle -----------------------------------------------------------------------------------
    def _post(self, url: str, payload: Any, headers: dict[str, str]) -> HttpResult:
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return self.http.request("POST", url, body=raw, headers={"Content-Type": "application/json", **headers})

    def _lifecycle(self, lifecycle_type: str, body: dict[str, Any], token: str | None = None) -> HttpResult:
        return self._post(self.lifecycle_url(lifecycle_type), body,
                          {"X-Addon-Lifecycle-Token": token or self.minter.lifecycle_token()})

    def installed_body(self) -> dict[str, Any]:
        minter = self.minter
        self.installation_token = minter.installation_token(user_id=self.owner_user_id)
        # One distinct token per webhook, so a token is only good for its own path.
        self.webhook_tokens = {hook["event"]: minter.webhook_token(jti=secrets.token_hex(12))
                               for hook in self.manifest["webhooks"]}
        return {
            "addonId": self.addon_id,
            "authToken": self.installation_token,
            "workspaceId": self.workspace_id,
            "asUser": self.owner_user_id,
            "apiUrl": self.backend_url,
            "addonUserId": hashlib.sha1(f"addon-user:{self.addon_id}".encode()).hexdigest()[:24],
            "webhooks": [
                {"path": self.manifest["baseUrl"] + hook["path"], "webhookType": "ADDON",
                 "authToken": self.webhook_tokens[hook["event"]]}
                for hook in self.manifest["webhooks"]
            ],
        }

    def install(self) -> HttpResult:
        result = self._lifecycle("INSTALLED", self.installed_body())
        if result.status_code == 200:
            self._sync_standin_settings()
            self._sync_standin_addon_webhooks()
        return result

    def add_addon_webhook(self, event: str) -> str:
        """A webhook a newer manifest version added after the installation: Clockify registers it
        (``getAddonWebhooks`` lists it with its token) but sends no new INSTALLED. Returns the token."""
        self.webhook_path(event)  # the manifest must serve the event
        self.webhook_tokens[event] = self.minter.webhook_token(jti=secrets.token_hex(12))
        self._sync_standin_addon_webhooks()
        return self.webhook_tokens[event]

    def update_settings(self, values: dict[str, Any]) -> HttpResult:
        """SETTINGS_UPDATED with every setting (Clockify sends the full list), ``values`` applied."""
        self.manifest  # noqa: B018 - loads the defaults
        self.settings_values.update(values)
        names = {s["id"]: s.get("name", s["id"]) for s in self._manifest_settings()}
        body = {"workspaceId": self.workspace_id, "addonId": self.addon_id,
                "settings": [{"id": k, "name": names.get(k, k), "value": v} for k, v in self.settings_values.items()]}
        result = self._lifecycle("SETTINGS_UPDATED", body)
        if result.status_code == 200:
            self._sync_standin_settings()
        return result

    def set_status(self, status: str) -> HttpResult:
        return self._lifecycle("STATUS_CHANGED", {"addonId": self.addon_id, "workspaceId": self.workspace_id,
                                                  "status": status})

    def delete(self) -> HttpResult:
        result = self._lifecycle("DELETED", {"addonId": self.addon_id, "workspaceId": self.workspace_id,
                                             "asUser": self.owner_user_id})
        if result.status_code == 200:
            self.webhook_tokens = {}
            self._sync_standin_addon_webhooks()
        return result

    def _structured_settings(self) -> dict[str, Any]:
        structured = json.loads(json.dumps(self.manifest.get("settings") or {"tabs": []}))
        for tab in structured.get("tabs") or []:
            for group in tab.get("groups") or []:
                for s in group.get("settings") or []:
                    s["value"] = self.settings_values.get(s["id"], s.get("value"))
        return structured

    def _sync_standin_settings(self) -> None:
        """Make the stand-in's ``GET /addon/workspaces/{ws}/settings`` answer what Clockify would."""
        if self.standin is not None:
            self.standin.set_addon_settings(self.workspace_id, self._structured_settings())
        elif self.sync_standin_over_http and self.installation_token:
            requests.put(f"{self.backend_url}/addon/workspaces/{self.workspace_id}/settings",
                         json=self._structured_settings(), headers={"X-Addon-Token": self.installation_token},
                         timeout=10)

    def _addon_webhooks(self) -> list[dict[str, Any]]:
        return [{"webhookEvent": event, "url": self.manifest["baseUrl"] + self.webhook_path(event), "authToken": token}
                for event, token in self.webhook_tokens.items()]

    def _sync_standin_addon_webhooks(self) -> None:
        """Make the stand-in's ``getAddonWebhooks`` list this installation's webhooks and tokens."""
        if self.standin is not None:
            self.standin.set_addon_webhooks(self.workspace_id, self.addon_id, self._addon_webhooks(),
                                            user_id=self.owner_user_id)
        elif self.sync_standin_over_http and self.installation_token:
            requests.put(f"{self.backend_url}/v1/workspaces/{self.workspace_id}/addons/{self.addon_id}/webhooks",
                         json={"webhooks": self._addon_webhooks()}, headers={"X-Addon-Token": self.installation_token},
                         timeout=10)

    # --- webhooks and user tokens ------------------------------------------------------------------
    def webhook_body(self, event: str, *, seed: int | None = None) -> dict[str, Any]:
        return webhook_body(event, workspace_id=self.workspace_id, workspace=self._workspace(), seed=seed)

    def send_webhook(self, event: str, body: dict[str, Any] | bytes | None = None, *, token: str | None = None,
                     event_type_header: str | None = None) -> HttpResult:
        """POST one signed webhook for ``event`` to the add-on, as Clockify does."""
        if token is None:
            if event not in self.webhook_tokens:
                raise KeyError(f"no webhook token for {event}: install() first")
            token = self.webhook_tokens[event]
        payload = self.webhook_body(event) if body is None else body
        return self._post(self.webhook_url(event), payload, {
            "clockify-signature": token,
            "clockify-webhook-event-type": event_type_header or event,
        })

    def user_token(self, role: str = "OWNER", ttl_seconds: int = 1800, theme: str = "DEFAULT", *,
                   user_id: str | None = None, language: str = "EN", **claims: Any) -> str:
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}")
        return self.minter.user_token(user_id=user_id or self.owner_user_id, role=role, ttl_seconds=ttl_seconds,
                                      theme=theme, language=language, **claims)
