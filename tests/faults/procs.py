"""Real processes for the fault tests and bench/soak: private Redis and PostgreSQL, gunicorn, Celery.

Nothing here touches the machine's shared PostgreSQL (5432) or Redis (6379) servers: a fault is
injected only into a private instance started on a free loopback port, owned by the caller, and
stopped by it. Every child runs in its own session so it (and its pool children) can be ended by
process group without touching anything else. Importable without Django (bench/soak uses it).
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def wait_for(predicate: Callable[[], object], timeout: float, what: str, interval: float = 0.1) -> object:
    """Poll ``predicate`` until it returns something truthy; AssertionError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def wait_port(port: int, proc: subprocess.Popen | None, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process {proc.args!r} exited with {proc.returncode}")
        if port_open(port):
            return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port}")


def child_env(**overrides: str) -> dict[str, str]:
    """The current environment without pytest's and Celery's own knobs, plus ``overrides``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "CELERY_"))}
    env.update({"DEBUG": "false", "LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT),
                "DJANGO_SETTINGS_MODULE": "config.settings"})
    env.update(overrides)
    return env


def _spawn(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=open(log, "ab"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop(*procs: subprocess.Popen | None, timeout: float = 15.0) -> None:
    """SIGTERM each process group, then SIGKILL what is still there after ``timeout``."""
    live = [p for p in procs if p is not None and p.poll() is None]
    for proc in live:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    for proc in live:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=10)


# --- Redis ------------------------------------------------------------------------------------------
class PrivateRedis:
    """A throw-away redis-server (no persistence: a restart loses every key, as a crash would)."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir, self.port = workdir, port or free_port()
        self.proc: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> "PrivateRedis":
        self.proc = _spawn([shutil.which("redis-server") or "redis-server", "--port", str(self.port),
                            "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no",
                            "--dir", str(self.workdir)], os.environ.copy(), self.workdir / f"redis-{self.port}.log")
        wait_port(self.port, self.proc)
        return self

    def stop(self) -> None:
        stop(self.proc)
        self.proc = None


# --- PostgreSQL -------------------------------------------------------------------------------------
def postgres_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def can_run_private_postgres() -> bool:
    if postgres_bindir() is None:
        return False
    if os.geteuid() == 0:
        return shutil.which("runuser") is not None and _postgres_uid() is not None
    return True  # initdb runs as the current (non-root) user


def _postgres_uid() -> int | None:
    import pwd

    try:
        return pwd.getpwnam("postgres").pw_uid
    except KeyError:
        return None


class PrivatePostgres:
    """A private PostgreSQL cluster in a temp folder, on its own port (trust auth, loopback only).

    initdb refuses to run as root, so under root every pg command runs as the ``postgres`` user
    and the folder is handed to it.
    """

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.base = Path(tempfile.mkdtemp(prefix="clk-private-pg-"))
        self.data = self.base / "data"
        self.log = self.base / "postgres.log"
        self.bindir = postgres_bindir()
        if os.geteuid() == 0:
            uid = _postgres_uid()
            os.chown(self.base, uid, -1)
        os.chmod(self.base, 0o700)

    def _run(self, *args: str, timeout: float = 120) -> None:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, timeout=timeout, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def url(self, dbname: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{dbname}"

    def init(self) -> "PrivatePostgres":
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        return self

    def start(self) -> None:
        opts = (f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off "
                f"-c synchronous_commit=off -c full_page_writes=off -c max_connections=100")
        self._run("pg_ctl", "-D", str(self.data), "-o", opts, "-l", str(self.log), "-w", "-t", "60", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")

    def is_running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url().replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def destroy(self) -> None:
        if self.is_running():
            try:
                self.stop()
            except subprocess.SubprocessError:
                pass
        shutil.rmtree(self.base, ignore_errors=True)


# --- the platform's processes -----------------------------------------------------------------------
def migrate(env: dict[str, str], log: Path) -> None:
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True,
                   stdout=open(log, "ab"), stderr=subprocess.STDOUT, timeout=300)


def start_gunicorn(port: int, env: dict[str, str], log: Path, workers: int = 2) -> subprocess.Popen:
    env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(workers),
           "GUNICORN_MAX_REQUESTS": "0", "GUNICORN_TIMEOUT": "30"}
    proc = _spawn([sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi"], env, log)
    wait_port(port, proc)
    return proc


def start_worker(env: dict[str, str], log: Path, *, app: str = "config", queues: str = "webhooks",
                 concurrency: int = 2, beat_schedule: Path | None = None, name: str = "fault") -> subprocess.Popen:
    cmd = [sys.executable, "-m", "celery", "-A", app, "worker", "-Q", queues, "-c", str(concurrency),
           "--pool", "prefork", "-l", "WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat",
           "-n", f"{name}-{os.getpid()}-{time.monotonic_ns()}@%h"]
    if beat_schedule is not None:  # embedded beat: the periodic sweepers run as in production
        cmd += ["-B", "-s", str(beat_schedule)]
    return _spawn(cmd, env, log)


class Supervised:
    """Keeps a process running the way a container restart policy would: started again when it exits.

    Needed for Celery workers: kombu's Redis transport can end a worker with "Unrecoverable error"
    when the broker connection drops mid-read (a long-standing kombu race), so production runs every
    process type under a supervisor (docs/deploy.md). ``restarts`` counts how often it stepped in.
    """

    def __init__(self, start: Callable[[], subprocess.Popen]) -> None:
        import threading

        self._start, self.restarts = start, 0
        self.proc: subprocess.Popen | None = start()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _watch(self) -> None:
        while not self._stopping.wait(0.5):
            if self.proc is not None and self.proc.poll() is not None:
                self.restarts += 1
                self.proc = self._start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)
        stop(self.proc)


def tail(path: Path, chars: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except FileNotFoundError:
        return "(no log)"


# --- memory -----------------------------------------------------------------------------------------
def group_rss_bytes(root_pid: int) -> int:
    """Resident memory of a process and all its descendants, from /proc (Linux)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry)
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = int(fields[21]) * page
    total, todo = 0, [root_pid]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total
