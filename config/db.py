"""Hot-path SQL: one constant statement, prepared once per connection, on Django's connection.

Django's psycopg backend binds parameters on the client: every execution sends the statement as
new text, which PostgreSQL parses and plans again. For the webhook INSERT that was over half of
PostgreSQL's work per request (bench/ingest: 0.45 ms of backend CPU client-bound, 0.21 ms
prepared). ``fetchone_prepared`` and ``execute_prepared`` run a statement with server-side binding
and a prepared plan (psycopg caches it per connection).

It also skips Django's per-request health check (a ``SELECT 1`` round trip before the first query
of a request) and checks afterwards instead: when the statement fails because the persistent
connection died (PostgreSQL restarted), and no transaction is open, the connection is replaced
and the statement runs once more. The statement may have run before the connection died, so
every caller must be safe to repeat: the webhook INSERT is deduplicated by its unique key; a
repeated run claim finds the lease taken and the run waits for it to expire; a repeated step
INSERT fails on the (run, index) key; the updates are idempotent. Inside a transaction the error
propagates, as Django's own cursor would let it.

Not for use with a transaction-pooling proxy (PgBouncer in transaction mode): prepared statements
are per server connection. Other backends (SQLite in embedded mode) go through Django's cursor.
"""

from __future__ import annotations

import time
from functools import lru_cache
from typing import Any, Callable, Sequence

from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections


def fetchone_prepared(sql: str, params: Sequence[Any]) -> tuple | None:
    """Execute ``sql`` (``%s`` placeholders, returning rows) and return its first row, or None."""
    return _run(sql, params, lambda cursor: cursor.fetchone())


def fetchall_prepared(sql: str, params: Sequence[Any]) -> list[tuple]:
    """Execute ``sql`` (``%s`` placeholders, returning rows) and return all its rows."""
    return _run(sql, params, lambda cursor: cursor.fetchall())


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


class ModelColumns:
    """A model's columns in a hand-written SELECT/RETURNING list, and instances built from its rows.

    For hot statements run with ``fetchone_prepared``: the instances are what the ORM would have
    built (the backend's and the fields' converters applied, e.g. JSON decoded); fields in
    ``exclude`` are deferred and load on first access, like ``QuerySet.defer``.
    """

    def __init__(self, model, alias: str, *, exclude: Sequence[str] = ()) -> None:
        db = connections[DEFAULT_DB_ALIAS]
        self.model = model
        fields = [f for f in model._meta.concrete_fields if f.name not in exclude]
        self.sql = ", ".join(f"{alias}.{db.ops.quote_name(f.column)}" for f in fields)
        self.width = len(fields)
        self._attnames = [f.attname for f in fields]
        self._converters = []  # as the SQL compiler applies them: (column index, col, converters)
        for i, field in enumerate(fields):
            col = field.get_col(alias)
            converters = db.ops.get_db_converters(col) + col.get_db_converters(db)
            if converters:
                self._converters.append((i, col, converters))

    def build(self, row: Sequence[Any], start: int = 0):
        """The instance from ``row[start:start + width]``."""
        values = list(row[start:start + self.width])
        db = connections[DEFAULT_DB_ALIAS]
        for i, col, converters in self._converters:
            for convert in converters:
                values[i] = convert(values[i], col, db)
        return self.model.from_db(DEFAULT_DB_ALIAS, self._attnames, values)


def db_value(model, field_name: str, value: Any) -> Any:
    """``value`` as the ORM would send it for ``model.field_name`` (JSON wrapped, and so on)."""
    return model._meta.get_field(field_name).get_db_prep_save(value, connections[DEFAULT_DB_ALIAS])


def save_prepared(instance, *, fields: Sequence[str] | None = None) -> None:
    """``instance.save()`` as one prepared INSERT (a new row; sets the primary key) or UPDATE.

    For rows written on every flow run. Fields' ``pre_save`` runs (``auto_now`` works); model
    signals are not sent, so use it only for models without save signal receivers. ``fields``
    limits an UPDATE like ``update_fields``. Other databases use ``instance.save()``.
    """
    db = connections[DEFAULT_DB_ALIAS]
    adding = instance._state.adding
    if db.vendor != "postgresql":
        instance.save(update_fields=None if adding else fields)
    elif adding:
        insert_prepared(instance)
    else:
        execute_prepared(*update_statement(instance, fields=fields))


def update_statement(instance, *, fields: Sequence[str] | None = None) -> tuple[str, list]:
    """The UPDATE that ``save_prepared`` runs for a saved ``instance``, as (sql, params), e.g. to
    run it as a ``WITH`` part of another statement (PostgreSQL)."""
    db = connections[DEFAULT_DB_ALIAS]
    sql, chosen = _update_statement(type(instance), None if fields is None else tuple(fields))
    return sql, [*(f.get_db_prep_save(f.pre_save(instance, False), db) for f in chosen), instance.pk]


def insert_prepared(instance, *, on_conflict: str = "") -> bool:
    """INSERT ``instance`` as one prepared statement and set its primary key; False (and no key)
    when ``on_conflict`` (e.g. ``"(a, b) DO NOTHING"``, a constant) skipped the row."""
    db = connections[DEFAULT_DB_ALIAS]
    sql, chosen = _insert_statement(type(instance), on_conflict)
    row = fetchone_prepared(sql, [f.get_db_prep_save(f.pre_save(instance, True), db) for f in chosen])
    if row is None:
        return False
    instance.pk = row[0]
    instance._state.adding = False
    instance._state.db = DEFAULT_DB_ALIAS
    return True


@lru_cache(maxsize=64)
def _insert_statement(model, on_conflict: str) -> tuple[str, list]:
    meta = model._meta
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    chosen = [f for f in meta.concrete_fields if not f.primary_key]
    conflict = f" ON CONFLICT {on_conflict}" if on_conflict else ""
    sql = (f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in chosen)}) "
           f"VALUES ({', '.join(['%s'] * len(chosen))}){conflict} RETURNING {quote(meta.pk.column)}")
    return sql, chosen


@lru_cache(maxsize=64)
def _update_statement(model, fields: tuple[str, ...] | None) -> tuple[str, list]:
    meta = model._meta
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    chosen = [f for f in meta.concrete_fields if not f.primary_key and (fields is None or f.name in fields)]
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in chosen)
    return f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s", chosen
