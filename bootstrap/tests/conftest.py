import pytest

from addons.clockify.testing import standin_install  # noqa: F401


@pytest.fixture(autouse=True)
def _fast_retries(settings):
    settings.CLOCKIFY_BACKOFF_BASE_SECONDS = 0.01
    settings.CLOCKIFY_BACKOFF_MAX_SECONDS = 0.05


@pytest.fixture
def drive_to_end():
    """Run drivers in-process until the run stops (no worker needed; on_commit enqueues are
    swallowed by the test transaction)."""
    from bootstrap.models import BootstrapRun
    from bootstrap.services import bootstrap_drive

    def _drive(run: BootstrapRun, *, limit: int = 20) -> BootstrapRun:
        for _ in range(limit):
            bootstrap_drive(run_id=run.pk)
            run.refresh_from_db()
            if not run.is_active:
                return run
        raise AssertionError(f"run still {run.status} after {limit} drives")

    return _drive


@pytest.fixture
def bootstrap_worker(transactional_db, settings):
    """``start(**env) -> Popen``: a real Celery worker (prefork, 4 processes) on the ``bootstrap``
    queue, reading the test database. Every worker started is stopped at teardown."""
    import os
    import signal
    import subprocess
    import sys
    import uuid
    from pathlib import Path

    from django.db import connection

    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        pytest.skip("needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL)")
    import redis

    redis.Redis.from_url(settings.REDIS_URL).delete("bootstrap")  # stale messages of earlier runs
    db = connection.settings_dict
    base_env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "LOG_LEVEL": "WARNING",
        "BOOTSTRAP_PARALLELISM": "4",
    }
    procs: list[subprocess.Popen] = []

    def _start(concurrency: int = 4, **env: str) -> subprocess.Popen:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "bootstrap", "-c", str(concurrency),
             "-P", "prefork", "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "WARNING",
             "-n", f"bootstrap-test-{uuid.uuid4().hex[:8]}@%h"],
            cwd=Path(__file__).resolve().parents[2], env={**base_env, **env}, start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        procs.append(proc)
        return proc

    def _kill(proc: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)

    _start.kill = _kill  # type: ignore[attr-defined]
    yield _start
    for proc in procs:
        if proc.poll() is None:
            _kill(proc, signal.SIGTERM)


@pytest.fixture
def wait_for_run():
    import time

    from bootstrap.models import BootstrapRun

    def _wait(installation, *, timeout: float = 120.0, until=None) -> BootstrapRun:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = BootstrapRun.objects.filter(installation=installation).order_by("-pk").first()
            if run is not None and (until(run) if until else not run.is_active):
                return run
            time.sleep(0.2)
        raise AssertionError(f"bootstrap run not finished within {timeout}s: {run and run.status}")

    return _wait
