"""Hot-path SQL: one constant statement, prepared once per connection, on Django's connection.

Django's psycopg backend binds parameters on the client: every execution sends the statement as
new text, which PostgreSQL parses and plans again. For the webhook INSERT that was over half of
PostgreSQL's work per request (bench/ingest: 0.45 ms of backend CPU client-bound, 0.21 ms
prepared). ``fetchone_prepared`` and ``execute_prepared`` run a statement with server-side binding
and a prepared plan (psycopg caches it per connection).

It also skips Django's per-request health check (a ``SELECT 1`` round trip before the first query
of a request) and checks afterwards instead: when the statement fails because the persistent
connection died (PostgreSQL restarted), and no transaction is open, the connection is replaced
and the statement runs once more. That is safe for statements that are idempotent on retry (the
webhook INSERT is deduplicated by its unique key). Inside a transaction the error propagates, as
Django's own cursor would let it.

Not for use with a transaction-pooling proxy (PgBouncer in transaction mode): prepared statements
are per server connection. Other backends (SQLite in embedded mode) go through Django's cursor.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Sequence

from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections


def fetchone_prepared(sql: str, params: Sequence[Any]) -> tuple | None:
    """Execute ``sql`` (``%s`` placeholders, returning rows) and return its first row, or None."""
    return _run(sql, params, lambda cursor: cursor.fetchone())


def execute_prepared(sql: str, params: Sequence[Any]) -> int:
    """Execute ``sql`` (``%s`` placeholders, no rows returned); returns the row count."""
    return _run(sql, params, lambda cursor: cursor.rowcount)


def _run(sql: str, params: Sequence[Any], result: Callable[[Any], Any]) -> Any:
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor != "postgresql":
        with db.cursor() as cursor:
            cursor.execute(sql, params)
            return result(cursor)
    try:
        return _execute(db, sql, params, result)
    except (OperationalError, InterfaceError):
        if db.in_atomic_block or db.is_usable():
            raise  # a real error, or a transaction that cannot be resumed elsewhere
        db.close()
        return _execute(db, sql, params, result)


def _execute(db, sql: str, params: Sequence[Any], result: Callable[[Any], Any]) -> Any:
    db.ensure_connection()
    db.validate_no_broken_transaction()
    started = time.monotonic()
    with db.wrap_database_errors:
        cursor = _cursor(db)
        cursor.execute(sql, params, prepare=True)
        value = result(cursor)
    # This connection just answered: the rest of the request needs no health check.
    db.health_check_done = True
    if db.queries_logged:  # DEBUG or assertNumQueries: account for it like Django's cursor
        db.queries_log.append({"sql": sql, "time": f"{time.monotonic() - started:.3f}"})
    return value


def _cursor(db):
    """A server-binding cursor on the wrapper's current connection, kept for reuse."""
    import psycopg

    cursor = getattr(db, "_prepared_cursor", None)
    if cursor is None or cursor.closed or cursor.connection is not db.connection:
        cursor = db._prepared_cursor = psycopg.Cursor(db.connection)
    return cursor
