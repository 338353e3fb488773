"""Shared fixtures: a test RSA key trusted through CLOCKIFY_PUBLIC_KEY, token minters, installs."""

from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass
from typing import Any

import pytest

from addons.manifest import build_manifest, lifecycle_path
from addons.variants import VARIANTS, Variant
from clockify_standin.signing import KeyPair, TokenMinter, generate_key_pair


@pytest.fixture(scope="session")
def clockify_keys() -> KeyPair:
    return generate_key_pair()


@pytest.fixture(scope="session")
def foreign_keys() -> KeyPair:
    """A key Clockify never used: tokens signed with it are forgeries."""
    return generate_key_pair()


@pytest.fixture(autouse=True)
def _trust_test_key(settings, clockify_keys: KeyPair) -> None:
    settings.CLOCKIFY_PUBLIC_KEY = clockify_keys.public_pem
    settings.CLOCKIFY_PUBLIC_KEY_FILE = ""
    settings.REQUIRE_SIGNATURE_VERIFICATION = True
    settings.CELERY_TASK_ALWAYS_EAGER = False


@dataclass
class Workspace:
    variant: Variant
    minter: TokenMinter
    workspace_id: str
    addon_id: str

    def installed_body(self, **overrides: Any) -> dict[str, Any]:
        manifest = build_manifest(self.variant)
        body = {
            "addonId": self.addon_id,
            "authToken": self.minter.installation_token(),
            "workspaceId": self.workspace_id,
            "asUser": "owner-user",
            "apiUrl": self.minter.backend_url,
            "addonUserId": "addon-user-1",
            "webhooks": [
                {
                    "path": manifest["baseUrl"] + hook["path"],
                    "webhookType": "ADDON",
                    "authToken": self.minter.webhook_token(),
                }
                for hook in manifest["webhooks"]
            ],
        }
        body.update(overrides)
        return body

    def lifecycle(self, client, lifecycle_type: str, body: dict[str, Any] | bytes | None = None, *,
                  token: str | None = "default", header: str = "HTTP_X_ADDON_LIFECYCLE_TOKEN"):
        if body is None:
            body = self.installed_body() if lifecycle_type == "INSTALLED" else {
                "addonId": self.addon_id, "workspaceId": self.workspace_id}
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {}
        if token == "default":
            token = self.minter.lifecycle_token()
        if token is not None:
            headers[header] = token
        url = f"/{self.variant.slug}{lifecycle_path(lifecycle_type)}"
        return client.post(url, data=raw, content_type="application/json", **headers)


@pytest.fixture
def make_workspace(clockify_keys: KeyPair):
    counter = {"n": 0}

    def _make(variant_slug: str = "universal-webhook", *, workspace_id: str | None = None,
              addon_id: str | None = None, private_pem: str | None = None) -> Workspace:
        counter["n"] += 1
        variant = VARIANTS[variant_slug]
        ws = workspace_id or f"ws{counter['n']:04d}{variant_slug[:3]}"
        aid = addon_id or f"addon{counter['n']:04d}"
        minter = TokenMinter(private_pem or clockify_keys.private_pem, addon_key=variant.key,
                             workspace_id=ws, addon_id=aid)
        return Workspace(variant=variant, minter=minter, workspace_id=ws, addon_id=aid)

    return _make


@pytest.fixture
def installed(make_workspace, client, db):
    """A live installation of a variant, installed over HTTP."""

    def _install(variant_slug: str = "universal-webhook", **kwargs: Any) -> Workspace:
        ws = make_workspace(variant_slug, **kwargs)
        response = ws.lifecycle(client, "INSTALLED")
        assert response.status_code == 200, response.content
        return ws

    return _install


@pytest.fixture
def log_lines():
    """``log_lines() -> str``: every line production would write during the test (the console
    handler's filter and formatter, tests.logcheck), at every level."""
    from tests.logcheck import FormattedLines

    stream = io.StringIO()
    handler = FormattedLines(stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream.getvalue
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
