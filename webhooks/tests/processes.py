"""Real processes for end-to-end tests: gunicorn, a Celery worker, a private redis-server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, deadline_s: float = 30.0) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listening on {port}")


def database_url() -> str:
    """The URL of the database the test is using (the test database), for child processes."""
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def base_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update({"DATABASE_URL": database_url(), "DEBUG": "false", "LOG_LEVEL": "WARNING",
                "PYTHONPATH": str(ROOT)})
    env.update(overrides)
    return env


def start_redis(port: int, log_dir: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(log_dir)],
        stdout=open(log_dir / f"redis-{port}.log", "w"), stderr=subprocess.STDOUT,
    )
    wait_for_port(port, proc)
    return proc


def start_gunicorn(port: int, env: dict[str, str], log_dir: Path, workers: int = 1) -> subprocess.Popen:
    env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(workers)}
    proc = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "-c", "config/gunicorn.py", "config.wsgi"],
        cwd=ROOT, env=env, stdout=open(log_dir / "gunicorn.log", "w"), stderr=subprocess.STDOUT,
    )
    wait_for_port(port, proc)
    return proc


def start_worker(app: str, env: dict[str, str], log_dir: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [str(VENV_BIN / "celery"), "-A", app, "worker", "--pool", "solo", "-Q", "webhooks", "--loglevel", "INFO",
         *extra],
        cwd=ROOT, env=env, stdout=open(log_dir / "worker.log", "w"), stderr=subprocess.STDOUT,
    )


def stop(*procs: subprocess.Popen | None) -> None:
    for proc in procs:
        if proc is not None and proc.poll() is None:
            proc.terminate()
    for proc in procs:
        if proc is not None:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
