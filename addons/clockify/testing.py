"""Test fixtures: an installation whose Clockify is the local stand-in (imported by conftests)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest


@pytest.fixture
def standin_install(make_workspace, client, standin, db):
    """``_install(variant, size=..., seed=...) -> (Workspace, Installation)``: a seeded stand-in
    workspace and an installation of it made over the real lifecycle endpoint. Each call gets a
    fresh 24-hex workspace id, so rate-limit buckets in Redis never carry over between tests."""
    from installations.models import Installation

    def _install(variant_slug: str = "universal-webhook", *, size: int | None = 200, seed: int = 0,
                 workspace_id: str | None = None, **body: Any):
        ws = make_workspace(variant_slug, workspace_id=workspace_id or uuid.uuid4().hex[:24])
        ws.minter.backend_url = standin.backend_url
        if size and not standin.has_workspace(ws.workspace_id):
            standin.seed_workspace(ws.workspace_id, size=size, seed=seed)
        response = ws.lifecycle(client, "INSTALLED", ws.installed_body(**body) if body else None)
        assert response.status_code == 200, response.content
        return ws, Installation.objects.get(variant=variant_slug, workspace_id=ws.workspace_id)

    return _install
