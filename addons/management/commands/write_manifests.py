"""Write (or check) manifests/<variant>.json from the registry.

Default: the committed form (placeholder baseUrl, see addons.manifest). ``--base-url`` writes a
deployable manifest for a real public address to ``--out``. ``--check`` exits 1 on drift.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from addons.manifest import build_manifest, manifest_file, render_committed_manifest
from addons.variants import VARIANTS


class Command(BaseCommand):
    help = "Write manifests/<variant>.json from the variant registry."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--check", action="store_true", help="Fail if the committed files drift.")
        parser.add_argument("--base-url", default="", help="Public base URL for a deployable manifest.")
        parser.add_argument("--out", default="", help="Output folder (default: manifests/).")

    def handle(self, *args, check: bool, base_url: str, out: str, **options) -> None:
        drifted = []
        for variant in VARIANTS.values():
            if base_url:
                text = json.dumps(build_manifest(variant, base_url=f"{base_url.rstrip('/')}/{variant.slug}"), indent=2) + "\n"
            else:
                text = render_committed_manifest(variant)
            target = Path(out) / f"{variant.slug}.json" if out else manifest_file(variant)
            if check:
                if not target.exists() or target.read_text() != text:
                    drifted.append(str(target))
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
            self.stdout.write(f"wrote {target}")
        if drifted:
            raise CommandError(f"manifests drifted from the registry: {', '.join(drifted)}; run write_manifests")
