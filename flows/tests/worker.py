"""A real Celery worker subprocess for end-to-end flow tests and the benchmark."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    """The URL of the database this process uses (the test database under pytest)."""
    db = settings.DATABASES["default"]
    host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


def start_worker(log_path: Path, *, queues: str = "flows", concurrency: int = 1, pool: str = "prefork",
                 **env: str) -> subprocess.Popen:
    environment = {**os.environ, "DATABASE_URL": database_url(), **env}
    log = open(log_path, "ab")
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queues, "-c", str(concurrency),
         "--pool", pool, "-l", "warning", "--without-gossip", "--without-mingle", "--without-heartbeat",
         "-n", f"flows-test-{os.getpid()}-{time.monotonic_ns()}@%h"],
        cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )


def kill_hard(process: subprocess.Popen) -> None:
    """kill -9 the worker and its pool children (its own process group)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=10)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        kill_hard(process)
    except ProcessLookupError:
        pass
