import json
from pathlib import Path

import jsonschema
import pytest
from django.core.management import call_command

from addons.catalog import EVENTS, SCOPES
from addons.manifest import build_manifest, render_committed_manifest
from addons.variants import VARIANTS

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DIR = ROOT / "addons" / "schemas"
SHARED_CLOCKIFY = ROOT.parent / "shared" / "clockify"


def _schema(version: str) -> dict:
    """Clockify's schema of ``version``, as bundled with the project (unmodified)."""
    return json.loads((SCHEMA_DIR / f"manifest-schema-{version}.json").read_text())


def _errors(manifest: dict) -> list[str]:
    validator = jsonschema.Draft4Validator(_schema(str(manifest["schemaVersion"])),
                                          format_checker=jsonschema.FormatChecker())
    return sorted(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(manifest))


@pytest.mark.parametrize("slug", list(VARIANTS))
def test_served_manifest_validates_unmodified_against_the_schema_it_declares(client, slug):
    """Clockify validates against the declared version, event names included (issue 20, item 1)."""
    manifest = client.get(f"/{slug}/manifest").json()
    assert _errors(manifest) == []
    assert len({hook["path"] for hook in manifest["webhooks"]}) == len(manifest["webhooks"])
    assert {lc["type"] for lc in manifest["lifecycle"]} == {"INSTALLED", "DELETED", "SETTINGS_UPDATED", "STATUS_CHANGED"}


@pytest.mark.parametrize("slug", list(VARIANTS))
def test_committed_manifests_validate_too(slug):
    committed = json.loads((ROOT / "manifests" / f"{slug}.json").read_text())
    assert _errors(committed) == []


def test_every_manifest_event_is_in_the_declared_schema_enum():
    """Universal Webhook subscribes in its manifest to the 42 documented add-on events; the 9 the
    workspace-webhook API alone knows are not in any manifest (issue 20, item 2)."""
    universal = VARIANTS["universal-webhook"]
    manifest = build_manifest(universal)
    enum = set(_schema(manifest["schemaVersion"])["definitions"]["webhook"]["properties"]["event"]["enum"])
    assert {hook["event"] for hook in manifest["webhooks"]} == enum and len(enum) == 42
    assert set(universal.workspace_webhook_events) == {
        "TIME_ENTRY_RESTORED", "TIME_ENTRY_SPLIT", "USERS_INVITED_TO_WORKSPACE", "LIMITED_USERS_ADDED_TO_WORKSPACE",
        "COST_RATE_UPDATED", "BILLABLE_RATE_UPDATED", "EXPENSE_RESTORED", "TIME_OFF_REQUEST_UPDATED",
        "TIME_OFF_REQUEST_STARTED",
    }
    assert not set(universal.workspace_webhook_events) & {hook["event"] for hook in manifest["webhooks"]}
    assert set(universal.events) | set(universal.workspace_webhook_events) == set(EVENTS)
    for version in ("1.2", "1.3", "1.4"):
        enum = set(_schema(version)["definitions"]["webhook"]["properties"]["event"]["enum"])
        assert not enum & set(universal.workspace_webhook_events), version


def test_schema_check_rejects_an_event_outside_the_declared_enum():
    manifest = build_manifest(VARIANTS["api-studio"])
    manifest["webhooks"].append({"event": "TIME_ENTRY_SPLIT", "path": "/webhooks/time-entry-split"})
    assert any("TIME_ENTRY_SPLIT" in e for e in _errors(manifest))
    manifest = build_manifest(VARIANTS["api-studio"])
    manifest["minimalSubscriptionPlan"] = "GOLD"
    assert any("GOLD" in e for e in _errors(manifest))


@pytest.mark.skipif(not SHARED_CLOCKIFY.exists(), reason="../shared/clockify not present")
@pytest.mark.parametrize("version", ["1.2", "1.3", "1.4"])
def test_bundled_schemas_are_clockifys_own(version):
    name = f"manifest-schema-{version}.json"
    assert (SCHEMA_DIR / name).read_bytes() == (SHARED_CLOCKIFY / name).read_bytes()


@pytest.mark.parametrize("slug", list(VARIANTS))
def test_required_only_where_a_value_is_needed_and_icons_are_served(client, slug):
    """No checkbox is required (a required checkbox would have to be ticked), a value-less NUMBER
    is meaningless so those are; the add-on and its sidebar have an icon (issue 20, item 10)."""
    manifest = client.get(f"/{slug}/manifest").json()
    settings_list = [s for tab in manifest["settings"]["tabs"] for g in tab["groups"] for s in g["settings"]]
    for setting in settings_list:
        assert setting.get("required", False) is (setting["type"] == "NUMBER"), setting["id"]
    icons = {manifest["iconPath"]} | {c["iconPath"] for c in manifest["components"]}
    for icon in icons:
        response = client.get(f"/{slug}{icon}")
        assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
        assert b"<svg" in b"".join(response.streaming_content if response.streaming else [response.content])


def test_variant_contents():
    api_studio, universal = VARIANTS["api-studio"], VARIANTS["universal-webhook"]
    assert len(api_studio.events) == 12
    assert api_studio.plan.value == "STANDARD" and universal.plan.value == "ENTERPRISE"
    assert set(universal.events) | set(universal.workspace_webhook_events) == set(EVENTS) and len(EVENTS) == 51
    assert set(universal.scopes) == set(SCOPES) and len(SCOPES) == 30
    assert len(api_studio.setting_specs) >= 3
    # The seeds' 14 settings plus the admin switch for the API-only events (enable_workspace_webhooks).
    assert len(universal.setting_specs) == 15 and not universal.setting_specs["enable_workspace_webhooks"].default
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
