"""Iframe page benchmark: server time of the data-heavy pages against a page with no data.

    .venv/bin/python bench/ui/run.py [--events 20000] [--runs 40]

Seeds one installation with ``--events`` webhook events spread over the last 7 days (12 event
types) and a flow with runs, then renders each page through Django's WSGI handler (token
verification, queries, template) ``--runs`` times. Baseline, measured in the same run: the settings
page (same token check and base template, no log queries). Target: the dashboard (charts, counts,
recent rows, aggregating the whole week) within 10x the baseline and the first page of the webhook log
within 5x, at 20k events.

Uses a throw-away SQLite database under a temporary folder, or ``--database-url`` (an EMPTY
PostgreSQL database you created for this; it is migrated and filled). No network, no server.
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def _setup_env(tmp: str, public_pem: str) -> None:
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ.setdefault("TOKEN_ENCRYPTION_KEYS", "WLjzykPzBc_QiTYOYYT3Efej3AMXfsEiKGu9iqX7lAw=")
    os.environ["VAR_DIR"] = tmp
    os.environ["CLOCKIFY_PUBLIC_KEY"] = public_pem
    os.environ["CLOCKIFY_API_HOSTS"] = "127.0.0.1,localhost"  # the stand-in
    os.environ["LOG_LEVEL"] = "ERROR"
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ["PUBLIC_BASE_URL"] = "http://testserver"
    os.environ.pop("REDIS_URL", None)
    os.environ["CELERY_BROKER_URL"] = "memory://"
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"


def _timed(client, url: str, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return samples


def _p95(samples: list[float]) -> float:
    return sorted(samples)[max(0, int(len(samples) * 0.95) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--database-url", default="", help="an empty database to fill (default: temp SQLite)")
    args = parser.parse_args()
    # Never the developer's DATABASE_URL: the benchmark writes thousands of rows.
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    else:
        os.environ.pop("DATABASE_URL", None)

    from clockify_standin.signing import TokenMinter, generate_key_pair

    keys = generate_key_pair()
    tmp = tempfile.mkdtemp(prefix="bench-ui-")
    atexit.register(shutil.rmtree, tmp, True)
    _setup_env(tmp, keys.public_pem)
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from addons.manifest import build_manifest, lifecycle_path
    from addons.variants import VARIANTS
    from flows.models import Flow, FlowRun
    from installations.models import Installation
    from webhooks.models import WebhookEvent

    call_command("migrate", verbosity=0)
    variant = VARIANTS["universal-webhook"]
    minter = TokenMinter(keys.private_pem, addon_key=variant.key, workspace_id="wsbench", addon_id="addonbench")
    manifest = build_manifest(variant)
    client = Client()
    body = {"addonId": "addonbench", "authToken": minter.installation_token(), "workspaceId": "wsbench",
            "asUser": "owner", "apiUrl": "http://127.0.0.1:9/api", "addonUserId": "u",
            "webhooks": [{"path": manifest["baseUrl"] + h["path"], "webhookType": "ADDON",
                          "authToken": minter.webhook_token()} for h in manifest["webhooks"]]}
    import json

    response = client.post(f"/universal-webhook{lifecycle_path('INSTALLED')}", data=json.dumps(body),
                           content_type="application/json", HTTP_X_ADDON_LIFECYCLE_TOKEN=minter.lifecycle_token())
    assert response.status_code == 200, response.content
    installation = Installation.objects.get(workspace_id="wsbench")

    # Bulk seeding (a benchmark fixture, not application code): ingestion's own speed is bench/ingest.
    rng = random.Random(7)
    types = list(variant.events)[:12]
    now = timezone.now()
    events = [
        WebhookEvent(installation=installation, event_type=rng.choice(types),
                     received_at=now - timedelta(seconds=rng.randint(0, 7 * 86400 - 1)),
                     payload={"id": f"e{i}", "description": "bench"}, raw_body="{}", status="processed",
                     entity_id=f"e{i}")
        for i in range(args.events)
    ]
    WebhookEvent.objects.bulk_create(events, batch_size=2000)
    flow = Flow.objects.create(installation=installation, name="bench", trigger={"events": types[:1]},
                               conditions={"mode": "all", "rules": []}, actions=[])
    runs = [
        FlowRun(flow=flow, installation=installation, flow_version=1, definition={}, event_type=types[0],
                status=rng.choice(["succeeded", "failed", "skipped"]), deadline_at=now)
        for _ in range(args.events // 10)
    ]
    FlowRun.objects.bulk_create(runs, batch_size=2000)
    from django.db import connection

    if connection.vendor == "postgresql":  # what autovacuum would have done after such a load
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    token = minter.user_token(role="OWNER", ttl_seconds=3600)
    pages = {
        "settings (baseline)": "settings",
        "dashboard": "dashboard",
        "webhook log, page 1": "webhooks",
        "webhook log, filtered": "webhooks?event_type=" + types[3],
        "flows": "flows",
    }
    for path in pages.values():  # warm caches (templates, catalogue, connections)
        _timed(client, f"/universal-webhook/ui/{path}{'&' if '?' in path else '?'}auth_token={token}", 3)
    results = {name: _timed(client, f"/universal-webhook/ui/{path}{'&' if '?' in path else '?'}auth_token={token}",
                            args.runs)
               for name, path in pages.items()}
    base = statistics.median(results["settings (baseline)"])
    print(f"{args.events} events, {len(runs)} flow runs, {args.runs} renders per page "
          f"({'PostgreSQL' if 'postgres' in os.environ.get('DATABASE_URL', '') else 'SQLite'})")
    print(f"{'page':26} {'median ms':>10} {'p95 ms':>8} {'x baseline':>11}")
    for name, samples in results.items():
        median = statistics.median(samples)
        print(f"{name:26} {median:10.1f} {_p95(samples):8.1f} {median / base:11.2f}")
    dash = statistics.median(results["dashboard"]) / base
    log = statistics.median(results["webhook log, page 1"]) / base
    met = dash <= 10 and log <= 5
    print(f"target: dashboard <= 10x ({dash:.2f}x), webhook log <= 5x ({log:.2f}x) -> {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
