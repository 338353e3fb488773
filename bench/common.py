"""Helpers shared by the benchmark scripts."""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit


def fresh_database(*, default_url: str, suffix: str, bench: str) -> str:
    """Drop and create ``<DATABASE_URL's name>_<suffix>``: every run starts from the same empty state."""
    import psycopg

    url = os.environ.get("DATABASE_URL") or default_url
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit(f"bench/{bench} needs PostgreSQL (DATABASE_URL=postgres://...)")
    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/')}_{suffix}"
    admin = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}"))


def processes_cpu():
    """(pid, ppid, program name, command line, CPU seconds used so far) of every process, from /proc."""
    from pathlib import Path

    ticks = os.sysconf("SC_CLK_TCK")
    for pid_dir in Path("/proc").iterdir():
        if not pid_dir.name.isdigit():
            continue
        try:
            head, tail = (pid_dir / "stat").read_text().rsplit(")", 1)
            cmdline = (pid_dir / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = tail.split()
        name = head.split("(", 1)[1].split(" ")[0].split(":")[0]
        yield int(pid_dir.name), int(fields[1]), name, cmdline, (int(fields[11]) + int(fields[12])) / ticks
