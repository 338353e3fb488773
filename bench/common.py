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
