from __future__ import annotations

import pytest


@pytest.fixture
def page(client):
    """GET a page of a workspace as a user with ``role``; returns the response."""

    def _get(ws, path: str, *, role: str = "OWNER", token: str | None = None, **claims):
        token = token if token is not None else ws.minter.user_token(role=role, **claims)
        return client.get(f"/{ws.variant.slug}/ui/{path}", {"auth_token": token} if token else {})

    return _get


@pytest.fixture
def xhr(client):
    """Call a page XHR with the user token as a Bearer header."""

    def _call(ws, method: str, path: str, *, role: str = "OWNER", token: str | None = None, body=None):
        token = token if token is not None else ws.minter.user_token(role=role)
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
        url = f"/{ws.variant.slug}/{path}"
        if method == "GET":
            return client.get(url, **headers)
        return client.generic(method, url, data=b"" if body is None else body, content_type="application/json",
                              **headers)

    return _call
