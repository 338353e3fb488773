"""The explorer offers Clockify's published OpenAPI document by default (issue 20, item 11).

A default deployment syncs https://docs.clockify.me/openapi.json (compiled, cached in the
database); when it cannot be fetched the bundled catalogue is used, and the explorer page says
which catalogue is in use and when it was synced. Tests point the source at the stand-in over
loopback, never at the internet."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from explorer import tasks
from explorer.catalog import BUNDLED_SOURCE, bundled_catalog, get_catalog, parse_document
from explorer.catalog.source import BUNDLED_PATH
from explorer.models import OpenAPIDocument

ROOT = Path(__file__).resolve().parents[2]
OFFICIAL = ROOT.parent / "shared" / "clockify" / "clockify-openapi-official-v1.yaml"


def test_the_default_source_is_clockifys_published_document():
    env = {k: v for k, v in os.environ.items() if k != "CLOCKIFY_OPENAPI_SOURCE"}
    out = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.CLOCKIFY_OPENAPI_SOURCE)"],
        cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"}, capture_output=True, text=True,
        timeout=60, check=True)
    assert out.stdout.strip() == "https://docs.clockify.me/openapi.json"


@pytest.fixture
def published(standin, settings):
    """The stand-in serving a document at /docs/openapi.json, configured as the source."""
    source = OFFICIAL if OFFICIAL.exists() else BUNDLED_PATH
    standin.openapi_document = parse_document(source.read_bytes())
    settings.CLOCKIFY_OPENAPI_SOURCE = f"{standin.base_url}/docs/openapi.json"
    return standin


def _fetches(standin) -> int:
    return standin.request_log.count(path_contains="/docs/openapi.json")


def _explorer_page(explorer_install) -> str:
    ex = explorer_install("universal-webhook")
    response = ex.client.get(f"/universal-webhook/ui/explorer?auth_token={ex.token()}")
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_the_periodic_sync_caches_the_published_document_and_the_page_says_so(published, explorer_install):
    tasks.sync_openapi()
    document = OpenAPIDocument.objects.get()
    assert document.source == f"{published.base_url}/docs/openapi.json"
    assert get_catalog().source == document.source and len(get_catalog()) == document.operation_count
    html = _explorer_page(explorer_install)
    assert "Clockify's published OpenAPI document" in html and f"{document.operation_count} operations" in html
    assert 'data-catalog-synced-at="' in html

    tasks.sync_openapi()  # fresh: the periodic run does not fetch it again
    assert _fetches(published) == 1


@pytest.mark.django_db
def test_when_it_cannot_be_fetched_the_bundled_catalogue_is_used_and_the_page_says_why(published, explorer_install):
    published.openapi_document = None  # the stand-in answers 404
    tasks.sync_openapi()
    assert not OpenAPIDocument.objects.exists() and get_catalog().source == BUNDLED_SOURCE
    html = _explorer_page(explorer_install)
    assert "bundled catalogue" in html and f"{len(bundled_catalog())} operations" in html
    assert "could not be fetched" in html and "HTTP 404" in html
