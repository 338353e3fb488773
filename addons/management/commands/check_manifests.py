"""``manage.py check_manifests [--base-url URL] [--live]``: would Clockify accept our manifests?

Validates each variant's manifest (for ``--base-url``, or the deployment's ``PUBLIC_BASE_URL``)
against the bundled schema of the version it declares and prints every error. ``--live`` also
validates against the schema Clockify serves for that version (``CLOCKIFY_MANIFEST_SCHEMA_URL``);
when it cannot be fetched that check is skipped with a message, the bundled one still counts.
Exits non-zero when any manifest has an error.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from addons.manifest import build_manifest
from addons.manifest_schema import SchemaUnavailable, bundled_schema, fetch_live_schema, validate
from addons.variants import VARIANTS


class Command(BaseCommand):
    help = "Validate the manifests against Clockify's schema of the version they declare."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--base-url", default="", help="Public base URL (default: PUBLIC_BASE_URL).")
        parser.add_argument("--live", action="store_true",
                            help="Also validate against the schema Clockify serves now (needs the network).")

    def handle(self, *args, base_url: str, live: bool, **options) -> None:
        failed: list[str] = []
        live_schemas: dict[str, dict | None] = {}
        for variant in VARIANTS.values():
            url = f"{base_url.rstrip('/')}/{variant.slug}" if base_url else None
            manifest = build_manifest(variant, base_url=url)
            version = str(manifest["schemaVersion"])
            checks = [("bundled", validate(manifest))]
            if live:
                if version not in live_schemas:
                    live_schemas[version] = self._fetch(version)
                if live_schemas[version] is not None:
                    checks.append(("live", validate(manifest, live_schemas[version])))
            for source, errors in checks:
                label = f"{variant.slug}: schema {version} ({source})"
                if errors:
                    failed.append(variant.slug)
                    self.stdout.write(self.style.ERROR(f"{label}: {len(errors)} error(s)"))
                    for error in errors:
                        self.stdout.write(f"  {error}")
                else:
                    self.stdout.write(self.style.SUCCESS(
                        f"{label}: valid ({len(manifest['webhooks'])} webhooks, {len(manifest['scopes'])} scopes)"))
        if failed:
            raise CommandError(f"invalid manifests: {', '.join(sorted(set(failed)))}")

    def _fetch(self, version: str) -> dict | None:
        try:
            schema = fetch_live_schema(version)
        except SchemaUnavailable as exc:
            self.stdout.write(self.style.WARNING(
                f"live check of schema {version} skipped: {exc}; the bundled schema was checked"))
            return None
        if schema != bundled_schema(version):
            self.stdout.write(self.style.WARNING(
                f"Clockify's live schema {version} differs from the bundled copy (addons/schemas)"))
        return schema
