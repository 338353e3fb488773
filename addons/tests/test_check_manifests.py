"""``manage.py check_manifests``: every error printed, the live schema when reachable, a clear skip when not."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from addons import manifest as manifest_module


def test_valid_manifests_pass_against_the_bundled_schema(capsys):
    call_command("check_manifests", "--base-url", "https://addons.example.org")
    out = capsys.readouterr().out
    assert "api-studio: schema 1.2 (bundled): valid (12 webhooks, 14 scopes)" in out
    assert "universal-webhook: schema 1.2 (bundled): valid (42 webhooks, 30 scopes)" in out


def test_live_check_uses_the_schema_clockify_serves(standin, settings, capsys):
    settings.CLOCKIFY_MANIFEST_SCHEMA_URL = f"{standin.base_url}/api/addons/manifest-schema?version={{version}}"
    call_command("check_manifests", "--live")
    out = capsys.readouterr().out
    assert out.count("schema 1.2 (live): valid") == 2 and "skipped" not in out
    assert standin.request_log.count(path_contains="/addons/manifest-schema") == 1  # once per version


def test_live_check_is_skipped_with_a_clear_message_when_clockify_cannot_be_reached(settings, capsys):
    settings.CLOCKIFY_MANIFEST_SCHEMA_URL = "http://127.0.0.1:9/manifest-schema?version={version}"
    call_command("check_manifests", "--live")
    out = capsys.readouterr().out
    assert "live check of schema 1.2 skipped" in out and "ConnectionError" in out
    assert out.count("(bundled): valid") == 2


def test_every_error_is_printed_and_the_command_fails(monkeypatch, capsys):
    real = manifest_module.build_manifest

    def broken(variant, *, base_url=None):
        manifest = real(variant, base_url=base_url)
        manifest["minimalSubscriptionPlan"] = "GOLD"
        manifest["webhooks"].append({"event": "TIME_ENTRY_SPLIT", "path": "/webhooks/time-entry-split"})
        return manifest

    monkeypatch.setattr("addons.management.commands.check_manifests.build_manifest", broken)
    with pytest.raises(CommandError, match="invalid manifests: api-studio, universal-webhook"):
        call_command("check_manifests")
    out = capsys.readouterr().out
    assert out.count("2 error(s)") == 2 and "'GOLD' is not one of" in out and "'TIME_ENTRY_SPLIT' is not one of" in out
