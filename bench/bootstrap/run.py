"""Bootstrap benchmark (issue 5): a 10,000-entity workspace through real Celery workers.

    .venv/bin/python bench/bootstrap/run.py [--size 10000] [--rps 25] [--workers 4]

The local Clockify stand-in (in this process, loopback, its 50 requests/s limit on) serves a
seeded workspace; an INSTALLED lifecycle call through Django starts the bootstrap, which
``--workers`` Celery worker processes run (time entries included, one year back). Printed:
wall time (run created -> finished, database clock), requests, 429s, failed endpoints, the
peak requests in any one-second window, and the ratio to the rate-limit floor measured in the
same run: floor = requests / rps (the fastest any client honouring the cap could go).
Target: ratio <= 1.10 with zero failed endpoints.

Database and broker: with ``DATABASE_URL`` pointing at PostgreSQL it uses a fresh sibling
database ``<name>_bench`` (dropped and re-created), else a throw-away SQLite file; Redis from
``REDIS_URL`` when set, else the embedded file broker and file token bucket.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def _database_url(tmp: Path) -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return f"sqlite:///{tmp / 'bench.sqlite3'}"
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/") + "_bench"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}"))


def _settings_doc(**values: str) -> dict:
    return {"tabs": [{"id": "general", "name": "General", "groups": [{"id": "bootstrap", "title": "Bootstrap",
            "settings": [{"id": k, "name": k, "type": "TXT", "value": v} for k, v in values.items()]}]}]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=10_000, help="entities in the workspace")
    parser.add_argument("--rps", type=int, default=25, help="bootstrap_max_rps (1..50); the floor is requests/rps")
    parser.add_argument("--workers", type=int, default=4, help="Celery worker processes")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--show-gaps", type=int, default=0, help="print the N longest pauses between requests")
    args = parser.parse_args()

    from clockify_standin.signing import generate_key_pair

    keys = generate_key_pair()
    tmp = Path(tempfile.mkdtemp(prefix="bench-bootstrap-"))
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings", "SECRET_KEY": "bench-only-secret", "VAR_DIR": str(tmp / "var"),
        "DATABASE_URL": _database_url(tmp), "LOG_LEVEL": "ERROR", "PUBLIC_BASE_URL": "http://localhost",
        "ALLOWED_HOSTS": "testserver", "TOKEN_ENCRYPTION_KEYS": "WLjzykPzBc_QiTYOYYT3Efej3AMXfsEiKGu9iqX7lAw=",
        "CLOCKIFY_PUBLIC_KEY": keys.public_pem, "CLOCKIFY_API_HOSTS": "127.0.0.1,localhost",
        "BOOTSTRAP_PARALLELISM": str(args.workers),
        "PYTHONPATH": str(ROOT),
    }
    os.environ.update(env)
    worker = None
    standin = None
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.test import Client

        from addons.variants import UNIVERSAL_WEBHOOK
        from bootstrap.models import BootstrapRun, StepStatus
        from clockify_standin.server import StandinServer
        from tests.fixtures import Workspace
        from clockify_standin.signing import TokenMinter

        call_command("migrate", verbosity=0)
        from django.conf import settings

        if settings.REDIS_URL:
            import redis

            redis.Redis.from_url(settings.REDIS_URL).delete("bootstrap")
        standin = StandinServer(keys.public_pem, rate_limit_per_second=50).start()
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "bootstrap", "-c", str(args.workers),
             "-P", "prefork", "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "ERROR",
             "-n", f"bench-{uuid.uuid4().hex[:6]}@%h"],
            cwd=ROOT, env={**os.environ}, start_new_session=True, stdout=subprocess.DEVNULL,
        )
        client = Client()

        def bootstrap(size: int, label: str) -> dict:
            ws_id = uuid.uuid4().hex[:24]
            minter = TokenMinter(keys.private_pem, addon_key=UNIVERSAL_WEBHOOK.key, workspace_id=ws_id,
                                 addon_id=f"addon-{label}", backend_url=standin.backend_url)
            ws = Workspace(variant=UNIVERSAL_WEBHOOK, minter=minter, workspace_id=ws_id, addon_id=minter.addon_id)
            data = standin.seed_workspace(ws_id, size=size, seed=1)
            standin.set_addon_settings(ws_id, _settings_doc(
                bootstrap_max_rps=str(args.rps), include_time_entries="true", time_entry_days_back="365",
                bootstrap_max_pages="10000"))
            response = ws.lifecycle(client, "INSTALLED")
            assert response.status_code == 200, response.content
            deadline = time.monotonic() + args.timeout
            while True:
                run = BootstrapRun.objects.filter(installation__workspace_id=ws_id).order_by("-pk").first()
                if run is not None and not run.is_active:
                    break
                if time.monotonic() > deadline:
                    raise SystemExit(f"{label}: bootstrap not finished within {args.timeout}s")
                time.sleep(0.1)
            steps = run.steps.all()
            wall = (run.finished_at - run.created_at).total_seconds()
            requests = standin.request_log.count(workspace_id=ws_id)
            floor = requests / args.rps
            calls = sorted(standin.request_log.calls(workspace_id=ws_id), key=lambda r: r.ts)
            times = [r.ts for r in calls]
            if args.show_gaps and label == "bench":
                worst = sorted(range(1, len(calls)), key=lambda i: times[i] - times[i - 1], reverse=True)
                for i in sorted(worst[:args.show_gaps]):
                    print(f"gap {times[i] - times[i - 1]:.3f}s at +{times[i] - times[0]:.1f}s: "
                          f"{calls[i - 1].path.rsplit('/', 2)[-2:]} -> {calls[i].path.rsplit('/', 2)[-2:]}")
            interval = 1 / args.rps
            gaps = [b - a for a, b in zip(times, times[1:])]
            return {
                # Where wall time goes: before the first request, the requests' own span, and
                # the idle stretches in it (gaps over twice the cap's interval).
                "first_request_after_s": round(times[0] - (time.monotonic() - (time.time() - run.created_at.timestamp())), 2),
                "request_span_s": round(times[-1] - times[0], 2),
                "gaps_over_2x_interval_s": round(sum(g - interval for g in gaps if g > 2 * interval), 2),
                "label": label, "entities_seeded": data.total, "status": run.status,
                "items_stored": sum(s.items for s in steps), "steps": len(steps),
                "failed_endpoints": sum(1 for s in steps if s.status == StepStatus.FAILED),
                "wall_s": round(wall, 2), "requests": requests,
                "http_429": standin.request_log.count(workspace_id=ws_id, status=429),
                "peak_per_s": standin.request_log.peak_per_second(ws_id),
                "floor_s": round(floor, 2), "ratio_to_floor": round(wall / floor, 3),
            }

        bootstrap(60, "warm-up")  # workers up, connections and imports warm
        result = bootstrap(args.size, "bench")
        result.update(rps_cap=args.rps, workers=args.workers, standin_limit=50,
                      database=settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
                      broker="redis" if settings.REDIS_URL else "filesystem")
        print(json.dumps(result, indent=2))
        ok = result["ratio_to_floor"] <= 1.10 and result["failed_endpoints"] == 0 and result["status"] == "done"
        print(f"bootstrap {result['requests']} requests at cap {args.rps}/s: wall {result['wall_s']}s vs floor "
              f"{result['floor_s']}s -> ratio {result['ratio_to_floor']} (target <= 1.10), "
              f"429s {result['http_429']}, failed endpoints {result['failed_endpoints']}: {'OK' if ok else 'MISSED'}")
        return 0 if ok else 1
    finally:
        if worker is not None and worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
        if standin is not None:
            standin.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    # SIGTERM (from `timeout`, say) unwinds like Ctrl-C, so the finally blocks stop what was started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())
