"""Explorer test helpers: installations whose Clockify URLs point at the stand-in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from clockify_standin.testing import hex_id
from explorer.catalog import clear_catalog_cache
from installations.models import Installation

OFFICIAL_DOC = "/work/shared/clockify/clockify-openapi-official-v1.yaml"


@pytest.fixture(autouse=True)
def _fresh_catalog_cache():
    # The process cache is keyed by document row id; test databases reuse ids across tests.
    clear_catalog_cache()
    yield
    clear_catalog_cache()


@dataclass
class ExplorerWorkspace:
    ws: Any  # tests.fixtures.Workspace
    installation: Installation
    client: Any
    variant: str
    owner_id: str = ""
    member_id: str = ""

    def token(self, role: str = "OWNER", user_id: str | None = None) -> str:
        if user_id is None:
            user_id = self.owner_id if role in ("OWNER", "ADMIN") else self.member_id
        return self.ws.minter.user_token(user_id=user_id, role=role)

    def url(self, tail: str) -> str:
        return f"/{self.variant}/api/v1/explorer/{tail}"

    def get(self, tail: str, *, role: str = "OWNER", token: str | None = None, **params: Any):
        return self.client.get(self.url(tail), params, HTTP_AUTHORIZATION=f"Bearer {token or self.token(role)}")

    def post(self, tail: str, data: Any, *, role: str = "OWNER", token: str | None = None):
        return self.client.post(self.url(tail), data=data, content_type="application/json",
                                HTTP_AUTHORIZATION=f"Bearer {token or self.token(role)}")

    def execute(self, operation: str, *, role: str = "OWNER", **fields: Any):
        return self.post("execute", {"operation": operation, **fields}, role=role)


@pytest.fixture
def explorer_install(make_workspace, client, standin, db):
    """Install a variant over HTTP with the stand-in as its Clockify (seeded workspace)."""

    def _install(variant: str = "universal-webhook", *, seed_size: int = 80) -> ExplorerWorkspace:
        ws = make_workspace(variant, workspace_id=hex_id())
        ws.minter.backend_url = standin.backend_url
        data = standin.seed_workspace(ws.workspace_id, size=seed_size)
        response = ws.lifecycle(client, "INSTALLED")
        assert response.status_code == 200, response.content
        installation = Installation.objects.get(variant=variant, workspace_id=ws.workspace_id)
        users = [uid for uid in data.entities["users"] if uid != data.owner_id]
        return ExplorerWorkspace(ws=ws, installation=installation, client=client, variant=variant,
                                 owner_id=data.owner_id, member_id=users[0])

    return _install
