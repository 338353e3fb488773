"""Soak benchmark (issue 9): ingestion, flows and bootstrap together for a bounded time.

    .venv/bin/python bench/soak/run.py [--seconds 60] [--rate 25] [--workspaces 6] [--bootstrap-every 10]

Real processes on loopback: gunicorn (2 sync workers), a Celery worker for ``webhooks,flows``
(2 processes), one for ``bootstrap,default`` (1 process, embedded beat with the sweepers), a
private redis-server (broker, cache, limiters) and PostgreSQL (a fresh ``<DATABASE_URL db>_soak``
database, dropped and re-created). The Clockify stand-in runs in this process (50 requests/s per
workspace, as Clockify). A separate sender process (bench/soak/sender.py) posts signed
NEW_TIME_ENTRY webhooks at ``--rate``/s over ``--workspaces`` installations, each with a flow
whose action calls the stand-in (``getTags``); every ``--bootstrap-every`` seconds a new
workspace of ``--bootstrap-size`` entities is installed, which bootstraps it from the stand-in.
After ``--seconds`` the sender stops and the backlog drains (bounded by ``--drain``).

Printed: throughput of each workload, error counts (non-200 answers, failed events, runs and
bootstrap endpoints, anything left unprocessed), and the RSS of the web and worker process trees
at the start and the end. Baselines from the same run: throughput of the last third of the
soak against its first third (sustained, target >= 0.8) and RSS end against start (growth,
target <= 1.5). Exit status 1 when an error was counted or a target was missed.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.common import fresh_database  # noqa: E402
HERE = Path(__file__).resolve().parent

from tests.faults import procs  # noqa: E402  (Django-free process helpers)

FLOW = {
    "name": "soak: one Clockify action",
    "trigger": {"events": ["NEW_TIME_ENTRY"]},
    "conditions": {"mode": "all", "rules": [{"path": "$.id", "op": "exists"}]},
    "actions": [{"type": "clockify", "operation": "getTags", "query": {"name": "{{event.id}}"}}],
}
MIB = 1024 * 1024


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1)))] if ordered else float("nan")


def _thirds_ratio(per_second: list[float]) -> float:
    third = max(1, len(per_second) // 3)
    first, last = per_second[:third], per_second[-third:]
    return statistics.mean(last) / statistics.mean(first) if first and statistics.mean(first) else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60, help="how long the sender runs")
    parser.add_argument("--rate", type=float, default=25.0, help="webhooks per second (below saturation: a soak)")
    parser.add_argument("--workspaces", type=int, default=6, help="installations the webhooks spread over")
    parser.add_argument("--bootstrap-every", type=float, default=10.0, help="seconds between new installations")
    parser.add_argument("--bootstrap-size", type=int, default=300, help="entities in each new workspace")
    parser.add_argument("--drain", type=float, default=120.0, help="longest wait for the backlog after the soak")
    args = parser.parse_args()
    if not shutil.which("redis-server"):
        raise SystemExit("needs redis-server")

    from clockify_standin.signing import generate_key_pair

    keys = generate_key_pair()
    tmp = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    db_url = fresh_database(default_url="postgres://postgres@127.0.0.1:5432/clk_ops", suffix="soak", bench="soak")
    redis = procs.PrivateRedis(tmp).start()
    port = procs.free_port()
    platform = f"http://127.0.0.1:{port}"
    env = procs.child_env(
        DATABASE_URL=db_url, REDIS_URL=redis.url(0), SECRET_KEY="bench-only-secret", LOG_LEVEL="ERROR",
        TOKEN_ENCRYPTION_KEYS="WLjzykPzBc_QiTYOYYT3Efej3AMXfsEiKGu9iqX7lAw=", CLOCKIFY_PUBLIC_KEY=keys.public_pem,
        CLOCKIFY_API_HOSTS="127.0.0.1,localhost", PUBLIC_BASE_URL=platform, ALLOWED_HOSTS="127.0.0.1,localhost", VAR_DIR=str(tmp / "var"),
        GUNICORN_ACCESSLOG="",
    )
    for key in [k for k in os.environ if k.startswith(("CELERY_", "ADDON_DEFAULT_"))]:
        del os.environ[key]
    os.environ.update(env)
    web = fast = slow = sender = standin = None
    try:
        procs.migrate(env, tmp / "migrate.log")
        import django

        django.setup()
        import requests
        from django.db.models import Count, Sum

        from bootstrap.models import BootstrapRun, BootstrapStep
        from clockify_standin.clockify_side import ClockifySide
        from clockify_standin.server import StandinServer
        from flows.models import FlowRun
        from webhooks.models import WebhookEvent

        standin = StandinServer(keys.public_pem, rate_limit_per_second=50).start()
        web = procs.start_gunicorn(port, env, tmp / "web.log", workers=2)
        fast = procs.start_worker(env, tmp / "worker-fast.log", queues="webhooks,flows", concurrency=2, name="soak-a")
        slow = procs.start_worker(env, tmp / "worker-slow.log", queues="bootstrap,default", concurrency=1,
                                  beat_schedule=tmp / "beat-schedule", name="soak-b")
        session = requests.Session()
        counter = iter(range(1, 10**6))

        def new_side(size: int) -> ClockifySide:
            n = next(counter)
            ws, addon = f"50a1{n:020x}", f"ad00{n:020x}"
            standin.seed_workspace(ws, size=size, seed=n)
            side = ClockifySide(platform, "universal-webhook", private_pem=keys.private_pem,
                                backend_url=standin.backend_url, workspace_id=ws, addon_id=addon, http=session,
                                standin=standin)
            result = side.install()
            if result.status_code != 200:
                raise SystemExit(f"install failed: {result.status_code} {result.content[:200]!r}")
            return side

        sides = []
        for _ in range(args.workspaces):
            side = new_side(20)
            r = session.post(f"{platform}/universal-webhook/api/v1/flows", json=FLOW,
                             headers={"Authorization": f"Bearer {side.user_token('OWNER')}"})
            if r.status_code != 201:
                raise SystemExit(f"flow not created: {r.status_code} {r.text[:200]}")
            sides.append(side)

        def settled() -> bool:
            return not (WebhookEvent.objects.filter(status="received").exists()
                        or FlowRun.objects.filter(status__in=["queued", "running"]).exists()
                        or BootstrapRun.objects.filter(status__in=["pending", "running"]).exists())

        # Warm-up: every process has imported, connected and run each kind of task once.
        for side in sides:
            side.send_webhook("NEW_TIME_ENTRY")
        procs.wait_for(settled, 120, "the warm-up to settle", interval=0.5)
        rss_start = {"web": procs.group_rss_bytes(web.pid),
                     "workers": procs.group_rss_bytes(fast.pid) + procs.group_rss_bytes(slow.pid)}
        baseline_events = WebhookEvent.objects.count()
        def flow_actions() -> int:  # the flows' getTags?name=<event id>; bootstrap reads /tags without a name
            return sum(1 for r in standin.request_log.calls("GET", "/tags") if r.query.get("name"))

        baseline_tags = flow_actions()

        config = {"seconds": args.seconds, "rate": args.rate, "threads": 8, "targets": [
            {"url": s.webhook_url("NEW_TIME_ENTRY"), "token": s.webhook_tokens["NEW_TIME_ENTRY"],
             "event": "NEW_TIME_ENTRY", "body": s.webhook_body("NEW_TIME_ENTRY")} for s in sides]}
        (tmp / "sender.json").write_text(json.dumps(config))
        soak_started = time.time()
        sender = subprocess.Popen([sys.executable, str(HERE / "sender.py"), str(tmp / "sender.json"),
                                   str(tmp / "sent.json")], cwd=ROOT, stdout=open(tmp / "sender.log", "w"),
                                  stderr=subprocess.STDOUT, start_new_session=True)
        bootstrapped, next_install = [], time.monotonic() + 2
        while sender.poll() is None:
            if time.monotonic() >= next_install and time.time() < soak_started + args.seconds - 2:
                bootstrapped.append(new_side(args.bootstrap_size).workspace_id)
                next_install += args.bootstrap_every
            time.sleep(0.2)
        soak_ended = time.time()
        backlog = {"events received": WebhookEvent.objects.filter(status="received").count(),
                   "flow runs queued/running": FlowRun.objects.filter(status__in=["queued", "running"]).count()}
        try:
            procs.wait_for(settled, args.drain, "the backlog to drain", interval=0.5)
            drained = True
        except AssertionError:
            drained = False
        drain_s = time.time() - soak_ended
        rss_end = {"web": procs.group_rss_bytes(web.pid),
                   "workers": procs.group_rss_bytes(fast.pid) + procs.group_rss_bytes(slow.pid)}

        sent = json.loads((tmp / "sent.json").read_text())
        events = dict(WebhookEvent.objects.values_list("status").annotate(n=Count("id")))
        runs = dict(FlowRun.objects.values_list("status").annotate(n=Count("id")))
        soak_runs = BootstrapRun.objects.filter(installation__workspace_id__in=bootstrapped)
        boot = dict(soak_runs.values_list("status").annotate(n=Count("id")))
        boot_items = BootstrapStep.objects.filter(run__in=soak_runs).aggregate(n=Sum("items"))["n"] or 0
        boot_failed_steps = BootstrapStep.objects.filter(run__in=soak_runs, status="failed").count()
        boot_wall = [(r.finished_at - r.created_at).total_seconds() for r in soak_runs if r.finished_at]
        accepted_ids = set(sent["accepted_ids"])
        stored = WebhookEvent.objects.filter(payload__id__in=list(accepted_ids)).count() if accepted_ids else 0
        tags = flow_actions() - baseline_tags
        http_429 = standin.request_log.count(status=429)
        # Processing throughput per second of the soak window (database clock), for the thirds ratio.
        processed_at = list(WebhookEvent.objects.filter(pk__gt=0, processed_at__isnull=False)
                            .values_list("processed_at", flat=True))
    finally:
        if sender is not None and sender.poll() is None:
            procs.stop(sender)
        procs.stop(fast, slow, web)
        if standin is not None:
            standin.stop()
        redis.stop()

    statuses: dict[str, int] = {}
    accepted_per_s = []
    for counts in sent["per_second"].values():
        accepted_per_s.append(counts.get("200", 0))
        for status, n in counts.items():
            statuses[status] = statuses.get(status, 0) + n
    window = [0] * max(1, args.seconds)
    for ts in processed_at:
        i = int(ts.timestamp() - soak_started)
        if 0 <= i < len(window):
            window[i] += 1
    non_200 = sum(n for s, n in statuses.items() if s != "200")
    errors = {
        "webhook answers other than 200": non_200,
        "accepted events not stored": len(accepted_ids) - stored,
        "events failed": events.get("failed", 0),
        "events left unprocessed": events.get("received", 0),
        "flow runs failed": runs.get("failed", 0),
        "flow runs unfinished": runs.get("queued", 0) + runs.get("running", 0),
        "bootstrap runs failed or unfinished": sum(n for s, n in boot.items() if s != "done"),
        "bootstrap endpoints failed": boot_failed_steps,
    }
    ingest_rate = len(accepted_ids) / sent["wall_s"]
    run_rate = runs.get("succeeded", 0) / (soak_ended - soak_started + drain_s)
    sustained_ingest, sustained_processing = _thirds_ratio(accepted_per_s), _thirds_ratio(window)
    growth = {k: rss_end[k] / rss_start[k] for k in rss_start}

    print(f"soak {args.seconds}s at {args.rate:.0f} webhooks/s over {args.workspaces} workspaces, a new "
          f"{args.bootstrap_size}-entity workspace every {args.bootstrap_every:.0f}s; gunicorn 2 workers, Celery "
          f"webhooks+flows x2 and bootstrap+default x1, Redis, PostgreSQL, {os.cpu_count()} CPUs")
    print(f"ingestion  sent {sent['sent']}, accepted {len(accepted_ids)} ({ingest_rate:.1f}/s), answers {statuses}, "
          f"latency p50 {_pct(sent['latencies_ms'], .5):.1f} ms p99 {_pct(sent['latencies_ms'], .99):.1f} ms")
    print(f"events     {events} (stored besides the soak's: {baseline_events} warm-up)")
    print(f"flows      runs {runs}, {run_rate:.1f} succeeded/s incl. drain; stand-in getTags calls {tags}")
    print(f"bootstrap  {len(bootstrapped)} workspaces: runs {boot}, {boot_items} entities stored, wall per run "
          f"p50 {_pct(boot_wall, .5):.1f}s max {max(boot_wall, default=float('nan')):.1f}s; stand-in 429s {http_429}")
    print(f"drain      backlog when the sender stopped {backlog}: {'drained' if drained else 'NOT drained'} "
          f"{drain_s:.1f}s later")
    print(f"RSS        web {rss_start['web'] / MIB:.0f} -> {rss_end['web'] / MIB:.0f} MiB (x{growth['web']:.2f}), "
          f"workers {rss_start['workers'] / MIB:.0f} -> {rss_end['workers'] / MIB:.0f} MiB (x{growth['workers']:.2f})")
    print(f"sustained  last third / first third: accepted webhooks x{sustained_ingest:.2f}, "
          f"processed events x{sustained_processing:.2f}")
    print("errors     " + ", ".join(f"{k}: {v}" for k, v in errors.items()))
    checks = {
        "zero errors": not any(errors.values()) and drained,
        "sustained throughput >= 0.8 of the first third": sustained_ingest >= 0.8 and sustained_processing >= 0.8,
        "RSS growth <= 1.5x": max(growth.values()) <= 1.5,
    }
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'} {name}")
    if all(checks.values()):
        shutil.rmtree(tmp, ignore_errors=True)
        return 0
    print(f"(logs kept in {tmp})")
    return 1


if __name__ == "__main__":
    # SIGTERM (from `timeout`, say) unwinds like Ctrl-C, so the finally blocks stop what was started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())
