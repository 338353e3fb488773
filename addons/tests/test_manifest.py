import json
from pathlib import Path

import jsonschema
import pytest
from django.core.management import call_command

from addons.catalog import EVENTS, SCOPES
from addons.manifest import build_manifest, render_committed_manifest
from addons.variants import VARIANTS

SCHEMA_PATH = Path(__file__).resolve().parents[2].parent / "shared" / "clockify" / "manifest-schema-1.3.json"
# shared/ is beside the project in CI and on developer machines, not in a fresh clone.
needs_schema = pytest.mark.skipif(not SCHEMA_PATH.exists(), reason="../shared/clockify not present")


def _schema_without_event_enum() -> dict:
    """Clockify's schema 1.3, strict everywhere but the webhook event enum (22 of 51 events)."""
    schema = json.loads(SCHEMA_PATH.read_text())
    enum = schema["definitions"]["webhook"]["properties"]["event"].pop("enum")
    assert set(enum) <= set(EVENTS), "the schema knows an event the catalogue does not"
    schema["definitions"]["webhook"]["additionalProperties"] = False
    return schema


@needs_schema
@pytest.mark.parametrize("slug", list(VARIANTS))
def test_manifest_validates_against_schema_1_3(slug):
    manifest = build_manifest(VARIANTS[slug])
    jsonschema.Draft4Validator(_schema_without_event_enum(), format_checker=jsonschema.FormatChecker()).validate(manifest)
    assert {hook["event"] for hook in manifest["webhooks"]} <= set(EVENTS)
    assert len({hook["path"] for hook in manifest["webhooks"]}) == len(manifest["webhooks"])
    assert {lc["type"] for lc in manifest["lifecycle"]} == {"INSTALLED", "DELETED", "SETTINGS_UPDATED", "STATUS_CHANGED"}


@needs_schema
def test_schema_check_rejects_a_broken_manifest():
    manifest = build_manifest(VARIANTS["api-studio"])
    manifest["minimalSubscriptionPlan"] = "GOLD"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(_schema_without_event_enum()).validate(manifest)


def test_variant_contents():
    api_studio, universal = VARIANTS["api-studio"], VARIANTS["universal-webhook"]
    assert len(api_studio.events) == 12
    assert api_studio.plan.value == "STANDARD" and universal.plan.value == "ENTERPRISE"
    assert set(universal.events) == set(EVENTS) and len(EVENTS) >= 50
    assert set(universal.scopes) == set(SCOPES) and len(SCOPES) == 30
    assert len(api_studio.setting_specs) >= 3
    assert len(universal.setting_specs) == 14
    groups = [g.id for g in universal.settings_layout.groups]
    assert groups == ["bootstrap", "webhooks", "flows", "data"]


def test_manifest_endpoint_uses_public_base_url(client, settings):
    settings.PUBLIC_BASE_URL = "https://addons.example.org"
    for slug in VARIANTS:
        response = client.get(f"/{slug}/manifest")
        assert response.status_code == 200
        body = response.json()
        assert body["baseUrl"] == f"https://addons.example.org/{slug}"
        assert body["key"] == VARIANTS[slug].key


def test_manifest_key_is_configurable(client, settings):
    settings.ADDON_KEY_API_STUDIO = "acme-private-api-studio"
    assert client.get("/api-studio/manifest").json()["key"] == "acme-private-api-studio"


def test_committed_manifests_match_the_registry():
    for variant in VARIANTS.values():
        committed = (Path(__file__).resolve().parents[2] / "manifests" / f"{variant.slug}.json").read_text()
        assert committed == render_committed_manifest(variant), f"run: manage.py write_manifests ({variant.slug})"


def test_write_manifests_check_detects_drift(tmp_path):
    call_command("write_manifests", "--out", str(tmp_path), "--base-url", "https://x.example")
    with pytest.raises(Exception, match="drifted"):
        call_command("write_manifests", "--check", "--out", str(tmp_path))


def test_unknown_variant_is_404(client):
    assert client.get("/no-such-addon/manifest").status_code == 404
