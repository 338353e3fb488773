"""Clockify API base URLs come only from signed claims, and only to Clockify's hosts (issue 14,
reproduction 5): the one client every call goes through refuses anything else before sending."""

from __future__ import annotations

import time

import pytest

from addons.clockify.client import ClockifyClient, ClockifyURLRefused
from addons.clockify.hosts import api_url_allowed
from installations.models import Installation

pytestmark = pytest.mark.django_db

PRODUCTION_DEFAULT = ["api.clockify.me", "*.clockify.me"]


def test_the_unsigned_installed_body_never_chooses_the_api_base(make_workspace, client, standin):
    ws = make_workspace("universal-webhook")
    standin.seed_workspace(ws.workspace_id, size=5)
    # A genuine installation token without URL claims; the body's apiUrl names some server.
    token = ws.minter.sign(ws.minter.base_claims(user="owner-user", iat=int(time.time())))
    response = ws.lifecycle(client, "INSTALLED", ws.installed_body(authToken=token, apiUrl=standin.backend_url))
    assert response.status_code == 200, response.content
    installation = Installation.objects.get(workspace_id=ws.workspace_id)
    assert installation.backend_url == ""  # the body's apiUrl is kept for support staff, never used as a base
    with pytest.raises(ClockifyURLRefused):
        ClockifyClient.for_installation(installation).get("/v1/user")
    assert standin.request_log.count() == 0


def test_a_signed_base_outside_the_allow_list_is_refused_before_sending(standin_install, standin, settings):
    ws, installation = standin_install(size=5)
    settings.CLOCKIFY_API_HOSTS = PRODUCTION_DEFAULT  # the stand-in's loopback host is not Clockify's
    client = ClockifyClient.for_installation(installation)
    for call in (lambda: client.get("/v1/user"), lambda: client.get(f"{standin.backend_url}/v1/user"),
                 lambda: client.get("/v1/reports", base="reports")):
        with pytest.raises(ClockifyURLRefused, match="CLOCKIFY_API_HOSTS"):
            call()
    assert standin.request_log.count() == 0
    settings.CLOCKIFY_API_HOSTS = [*PRODUCTION_DEFAULT, "127.0.0.1"]
    assert client.get("/v1/user").status == 200


@pytest.mark.parametrize("url, allowed", [
    ("https://api.clockify.me/api", True),
    ("https://reports.api.clockify.me", True),
    ("https://pto.api.clockify.me/v1", True),
    ("https://euc1.clockify.me/api", True),
    ("https://developer.clockify.me/api", True),
    ("https://API.Clockify.ME./api", True),
    ("https://api.clockify.me:8443/api", True),
    ("http://api.clockify.me/api", False),  # HTTPS only
    ("https://clockify.me.evil.example/api", False),
    ("https://evilclockify.me/api", False),
    ("https://clockify.me/api", False),
    ("https://user:pw@api.clockify.me/api", False),
    ("https://10.0.0.1/api", False),
    ("http://127.0.0.1:8100/api", False),  # loopback only when listed
    ("ftp://api.clockify.me/api", False),
    ("https:///api", False),
    ("not a url", False),
])
def test_the_default_allow_list(settings, url, allowed):
    settings.CLOCKIFY_API_HOSTS = PRODUCTION_DEFAULT
    assert api_url_allowed(url) is allowed


@pytest.mark.parametrize("url, allowed", [
    ("http://127.0.0.1:8100/api", True),
    ("http://localhost:8100/api", True),
    ("https://127.0.0.1/api", True),
    ("http://10.0.0.1/api", False),  # plain http is for loopback only, even if listed
])
def test_loopback_is_allowed_only_when_listed(settings, url, allowed):
    settings.CLOCKIFY_API_HOSTS = [*PRODUCTION_DEFAULT, "127.0.0.1", "localhost", "10.0.0.1"]
    assert api_url_allowed(url) is allowed
