"""Webhook ingestion benchmark (issue 4): signed Clockify webhooks against gunicorn, PostgreSQL, Redis.

    .venv/bin/python bench/ingest/run.py [--connections 16] [--duration 10] [--rounds 4] [--workspaces 8]

One gunicorn (config/gunicorn.py, the project's settings plus a bench URLconf) serves both the real
endpoint ``/universal-webhook/webhooks/new-time-entry`` and a baseline view doing one INSERT of the
body per request (bench/ingest/views.py). wrk (a second process, loopback) sends the same ~800-byte
bodies, each unique, to both, alternating baseline and ingest rounds so machine noise hits both.
Signed tokens of ``--workspaces`` installations (installed through the lifecycle endpoint).

Printed: accepted requests/s, p50 and p99 latency of each, the ratio ingest/baseline, 5xx count
and whether every accepted event is in the log afterwards. Targets: ratio >= 0.75, p99 <= 50 ms
at 16 connections, zero 5xx, no accepted event missing. Exit status 1 when a target is missed.

Database: a sibling ``<name>_bench`` of ``DATABASE_URL`` (default clk_webhooks), dropped and
re-created. Redis: a private redis-server on a free loopback port (broker, cache, rate limiter).
The rate limiter stays on (one Lua call per request) with a limit high enough not to refuse.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.common import fresh_database, processes_cpu  # noqa: E402
HERE = Path(__file__).resolve().parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, proc: subprocess.Popen, deadline: float = 30.0) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise SystemExit(f"process exited early ({proc.returncode})")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listening on {port}")


def _web_cpu_seconds(master_pid: int) -> float:
    """CPU time used so far by gunicorn's workers (children of the master)."""
    return sum(cpu for _, ppid, _, _, cpu in processes_cpu() if ppid == master_pid)


def _cpu_by_program() -> dict[str, float]:
    """CPU seconds used so far per program name (postgres, redis-server, wrk, python...)."""
    totals: dict[str, float] = {}
    for _, _, name, _, cpu in processes_cpu():
        totals[name] = totals.get(name, 0.0) + cpu
    return totals


def _machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(fields) - idle) / tick, sum(fields) / tick


def _run_wrk(url: str, script: Path, connections: int, duration: int) -> dict:
    out = subprocess.run(
        ["wrk", "-t", "2", "-c", str(connections), "-d", f"{duration}s", "--timeout", "10s", "-s", str(script), url, "--", uuid.uuid4().hex[:12]],
        capture_output=True, text=True, check=True,
    ).stdout
    line = next(l for l in out.splitlines() if l.startswith("RESULT "))
    result = json.loads(line[len("RESULT "):])
    result["rps"] = result["ok"] / (result["duration_us"] / 1e6)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured round")
    parser.add_argument("--rounds", type=int, default=4,
                        help="baseline/ingest pairs (the machine is noisy: with 2, the ratio varied 0.71-0.84)")
    parser.add_argument("--workspaces", type=int, default=8)
    parser.add_argument("--sequential", type=int, default=0, help="also time N one-at-a-time requests")
    args = parser.parse_args()
    if not shutil.which("wrk") or not shutil.which("redis-server"):
        raise SystemExit("needs wrk (apt-get install -y wrk) and redis-server")

    from clockify_standin.signing import TokenMinter, generate_key_pair
    from cryptography.fernet import Fernet

    tmp = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    keys = generate_key_pair()
    db_url = fresh_database(default_url="postgres://postgres@127.0.0.1:5432/clk_webhooks", suffix="bench", bench="ingest")
    redis_port, web_port = _free_port(), _free_port()
    base_url = f"http://127.0.0.1:{web_port}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "CELERY_", "ADDON_DEFAULT_"))},
        "DJANGO_SETTINGS_MODULE": "bench.ingest.settings", "DATABASE_URL": db_url,
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0", "SECRET_KEY": "bench-secret-key", "DEBUG": "false",
        "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(), "CLOCKIFY_PUBLIC_KEY": keys.public_pem,
        "CLOCKIFY_API_HOSTS": "127.0.0.1,localhost",
        "PUBLIC_BASE_URL": base_url, "ALLOWED_HOSTS": "127.0.0.1,localhost", "LOG_LEVEL": "WARNING",
        "WEBHOOK_INGEST_RATE_PER_SECOND": "1000000", "WEBHOOK_INGEST_BURST": "1000000",
        "GUNICORN_BIND": f"127.0.0.1:{web_port}", "GUNICORN_MAX_REQUESTS": "0", "PYTHONPATH": str(ROOT),
        "VAR_DIR": str(tmp / "var"),
    }
    os.environ.update(env)
    redis_proc = web = None
    try:
        redis_proc = subprocess.Popen(
            ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(tmp)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_port(redis_port, redis_proc)
        subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
        import psycopg

        with psycopg.connect(db_url.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
            from bench.ingest.views import TABLE_SQL

            conn.execute(TABLE_SQL)
        web = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi"],
                               cwd=ROOT, env=env, stdout=open(tmp / "gunicorn.log", "w"), stderr=subprocess.STDOUT)
        _wait_port(web_port, web)

        import django
        import requests

        django.setup()
        from addons.manifest import build_manifest
        from addons.variants import VARIANTS

        variant = VARIANTS["universal-webhook"]
        manifest = build_manifest(variant, base_url=f"{base_url}/{variant.slug}")
        targets = []
        for n in range(args.workspaces):
            ws_id = f"benchws{n:03d}"
            minter = TokenMinter(keys.private_pem, addon_key=variant.key, workspace_id=ws_id, addon_id=f"addon{n}")
            hook_token = minter.webhook_token()
            body = {"addonId": f"addon{n}", "authToken": minter.installation_token(), "workspaceId": ws_id,
                    "asUser": "u", "apiUrl": "http://127.0.0.1:9/api", "addonUserId": "au",
                    "webhooks": [{"path": manifest["baseUrl"] + h["path"], "webhookType": "ADDON",
                                  "authToken": hook_token} for h in manifest["webhooks"]]}
            r = requests.post(f"{base_url}/{variant.slug}/lifecycle/installed", json=body, timeout=30,
                              headers={"X-Addon-Lifecycle-Token": minter.lifecycle_token()})
            r.raise_for_status()
            targets.append((f"/{variant.slug}/webhooks/new-time-entry", hook_token, ws_id))

        def script(kind: str) -> Path:
            rows = [(p if kind == "ingest" else "/bench/baseline", tok, ws) for p, tok, ws in targets]
            lua = "TARGETS = {" + ",".join("{%s,%s,%s}" % tuple(json.dumps(x) for x in row) for row in rows) + "}\n"
            path = tmp / f"{kind}.lua"
            path.write_text(lua + (HERE / "wrk.lua").read_text())
            return path

        scripts = {"baseline": script("baseline"), "ingest": script("ingest")}
        if args.sequential:  # diagnostics: one request at a time, no concurrency
            for kind, (path, tok, ws) in (("baseline", ("/bench/baseline", *targets[0][1:])), ("ingest", targets[0])):
                times = []
                for n in range(args.sequential):
                    body = json.dumps({"id": f"seq-{uuid.uuid4().hex}", "workspaceId": ws, "description": "x" * 400})
                    t0 = time.perf_counter()
                    r = requests.post(base_url + path, data=body, headers={
                        "clockify-signature": tok, "clockify-webhook-event-type": "NEW_TIME_ENTRY",
                        "content-type": "application/json"}, timeout=10)
                    times.append(time.perf_counter() - t0)
                    assert r.status_code == 200, r.text
                print(f"sequential {kind}: median {statistics.median(times) * 1000:.2f} ms")
        for kind in ("baseline", "ingest"):  # warm up connections, caches, JIT-less Python paths
            _run_wrk(base_url, scripts[kind], args.connections, 3)
        with psycopg.connect(db_url.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
            before = conn.execute("SELECT count(*) FROM webhooks_webhookevent").fetchone()[0]
        results: dict[str, list[dict]] = {"baseline": [], "ingest": []}
        for _ in range(args.rounds):
            for kind in ("baseline", "ingest"):
                cpu, (busy, total), programs = _web_cpu_seconds(web.pid), _machine_busy_seconds(), _cpu_by_program()
                result = _run_wrk(base_url, scripts[kind], args.connections, args.duration)
                requests_done = max(result["requests"], 1)
                result["cpu_ms"] = (_web_cpu_seconds(web.pid) - cpu) * 1000 / requests_done
                busy_after, total_after = _machine_busy_seconds()
                result["machine_cpu_ms"] = (busy_after - busy) * 1000 / requests_done
                result["busy_share"] = (busy_after - busy) / max(total_after - total, 1e-9)
                result["programs"] = {name: (used - programs.get(name, 0.0)) * 1000 / requests_done
                                      for name, used in _cpu_by_program().items()
                                      if used - programs.get(name, 0.0) > 0.01}
                results[kind].append(result)
        time.sleep(1)
        with psycopg.connect(db_url.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
            stored = conn.execute("SELECT count(*) FROM webhooks_webhookevent").fetchone()[0] - before
    finally:
        for proc in (web, redis_proc):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)

    def summary(kind: str) -> dict:
        rounds = results[kind]
        return {
            "rps": statistics.median(r["rps"] for r in rounds),
            "p50_ms": statistics.median(r["p50_us"] for r in rounds) / 1000,
            "p99_ms": max(r["p99_us"] for r in rounds) / 1000,
            "cpu_ms": statistics.median(r["cpu_ms"] for r in rounds),
            "machine_cpu_ms": statistics.median(r["machine_cpu_ms"] for r in rounds),
            "busy_share": statistics.median(r["busy_share"] for r in rounds),
            "ok": sum(r["ok"] for r in rounds), "c5xx": sum(r["c5xx"] for r in rounds),
            "c4xx": sum(r["c4xx"] + r["c429"] for r in rounds),
            "socket_errors": sum(r["socket_errors"] for r in rounds),
        }

    base, ingest = summary("baseline"), summary("ingest")
    ratio = ingest["rps"] / base["rps"] if base["rps"] else 0.0
    print(f"connections={args.connections} rounds={args.rounds}x{args.duration}s workspaces={args.workspaces} "
          f"gunicorn workers={os.environ.get('WEB_CONCURRENCY', 'default')}")
    for name, s in (("baseline (one INSERT)", base), ("webhook ingest", ingest)):
        print(f"{name:22s} {s['rps']:8.0f} accepted req/s  p50 {s['p50_ms']:6.2f} ms  p99 {s['p99_ms']:6.2f} ms  "
              f"web CPU {s['cpu_ms']:.2f} ms/req  machine CPU {s['machine_cpu_ms']:.2f} ms/req "
              f"({s['busy_share']:.0%} busy)  ok={s['ok']} 4xx={s['c4xx']} 5xx={s['c5xx']} "
              f"socket_errors={s['socket_errors']}")
    for kind in ("baseline", "ingest"):
        programs = results[kind][-1]["programs"]
        print(f"CPU ms/request by program ({kind}, last round): " + ", ".join(
            f"{name} {ms:.2f}" for name, ms in sorted(programs.items(), key=lambda kv: -kv[1])))
    print("per round req/s (baseline, ingest): " + ", ".join(
        f"({b['rps']:.0f}, {i['rps']:.0f})" for b, i in zip(results["baseline"], results["ingest"])))
    print(f"ratio ingest/baseline = {ratio:.3f} (medians of the rounds)")
    print(f"accepted events: {ingest['ok']}, stored in the log: {stored}")
    checks = {
        "ratio >= 0.75": ratio >= 0.75,
        "p99 <= 50 ms": ingest["p99_ms"] <= 50,
        "zero 5xx": ingest["c5xx"] == 0 and base["c5xx"] == 0,
        "every accepted event stored": stored >= ingest["ok"],
    }
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'} {name}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    # SIGTERM (from `timeout`, say) unwinds like Ctrl-C, so the finally blocks stop what was started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())
