"""Prepared SQL for the registry's hottest statements: inserting rows, reading one by a key.

This module is the one place where the project writes SQL of its own instead of
asking the ORM, and the one place where statements bypass Django's cursor
wrapper. ``dispatcher_site.sqlite`` (how SQLite writers queue) sends no SQL.

Texts are built once per model from the model's own metadata, and values still
pass through each field's own conversion (``get_db_prep_save``; reads through the
backend's and the fields' converters and ``from_db``), so JSON, dates and time
zones are stored and read exactly as the ORM does. Neither path sends
``pre_save``/``post_save``: no receiver listens for these models (job events have
their own signal, sent by the services).

Why, measured 2026-11-30 on this 2-core VM (Django 5.2.19; SQLite in WAL mode):

- Under load, ``bench/run.py --variants shipped,plain,plain-queued,fastpath-stock
  --rounds 7 --seconds 6`` (one service per variant, gunicorn 2 workers x 2
  threads, wrk 16 connections, runs interleaved; medians): new ``empty/dummy``
  jobs 770/s here against 520/s with the plain ORM on the same SQLite backend
  (``plain-queued``: ``save()``/``bulk_create`` in ``atomic()``) and 381/s with
  the ORM on Django's own backend (``plain``); the service's CPU per new job 2.28
  against 3.09 ms. Polls of a done job 1581/s (1884/s for ``fastpath-stock``,
  the same code) against 1055/s for ``filter(job_id=...).first()``, CPU per poll
  1.0-1.2 against 1.8 ms. On PostgreSQL + Redis (5 rounds): 512 against 377 new
  jobs/s, 1320 against 914 polls/s.
- In one process (CPU time, median of 8 interleaved blocks): a new job's write
  transaction (job, two events, product lists) 456 us here against 1154 us
  through the ORM; the SELECT of a poll 47 us against 635 us.
- INSERTs go to the driver's own cursor unless something watches queries
  (``queries_watched``). Measured with a temporary switch here (not kept):
  through Django's cursor the same transaction took 640 us
  instead of 456 us in one process, most of it while SQLite's one write lock is
  held, and under load made 606 new jobs/s against 705/s (median of 16 interleaved
  rounds, fewer in 15 of them). The SELECT goes through Django's cursor: the
  driver's saved 26 us of a poll that costs the service ~1.1 ms, and under load
  made no difference (1719 against 1726 polls/s, 10 rounds), so that path was
  removed; so was the driver-sent BEGIN of the SQLite backend (786 against 782
  jobs/s).

The driver path does what the wrapper would have done that matters here: the
thread and broken-transaction checks, the health check, and the driver's errors
raised as Django's (an IntegrityError stays one). It leans on Django 5.2's
backend internals (``queries_logged``, ``execute_wrappers``,
``validate_no_broken_transaction``, ``wrap_database_errors``); Django is pinned
to 5.2.x, and tests/site/test_django_pin.py fails on another minor version.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import CharField, Field, Model, TextField
from django.utils import timezone

from jobs.models import Job

M = TypeVar("M", bound=Model)


def row_insert(row: M, *, replace: bool = False) -> M:
    """INSERT an unsaved model instance as ``save()`` would, and set its primary key.

    Fields with ``auto_now``/``auto_now_add`` left empty get the current time; every
    other value is the instance's own (its defaults were filled when it was built).
    ``replace`` overwrites the row that has the same primary key, if there is one
    (an upsert: ``INSERT ... ON CONFLICT DO UPDATE``, the same in SQLite and PostgreSQL).
    """
    db = connections[DEFAULT_DB_ALIAS]  # the thread's own wrapper, not the proxy: a lookup per use
    statement = _insert_statement(type(row), db.vendor, replace)
    return _execute(db, row, statement, _params(db, row, statement))


def row_family_insert(parent: M, children: Sequence[Model]) -> M:
    """INSERT a new row and new rows that point to it, in one transaction.

    Each child has one foreign key to the parent's model; it is set here. Every
    value is converted before the transaction opens, so the database's write lock
    (SQLite has one writer at a time) is held for the statements alone.
    """
    db = connections[DEFAULT_DB_ALIAS]
    statement = _insert_statement(type(parent), db.vendor, False)
    params = _params(db, parent, statement)
    prepared = []
    for child in children:
        child_statement = _insert_statement(type(child), db.vendor, False)
        link = _link_to(type(child), type(parent))
        child_params = _params(db, child, child_statement)
        prepared.append((child, child_statement, child_params, child_statement.fields.index(link), link))
    with transaction.atomic(using=db.alias):
        _execute(db, parent, statement, params)
        for child, child_statement, child_params, link_index, link in prepared:
            child_params[link_index] = parent.pk
            setattr(child, link.name, parent)
            _execute(db, child, child_statement, child_params)
    return parent


def row_get(model: type[M], column: str, value: Any) -> M | None:
    """The row whose ``column`` (unique) equals ``value``, or None; through a prepared SELECT.

    Values are converted as the ORM converts them (the backend's and each field's
    own converters: JSON, dates, time zones) and the instance is built by ``from_db``.
    """
    db = connections[DEFAULT_DB_ALIAS]
    sql, converters = _select_statement(model, column)
    with db.cursor() as cursor:
        cursor.execute(sql, [value])
        found = cursor.fetchone()
    if found is None:
        return None
    values = []
    for raw, (expression, field_converters) in zip(found, converters, strict=True):
        for converter in field_converters:
            raw = converter(raw, expression, db)
        values.append(raw)
    return model.from_db(db.alias, None, values)


def job_by_job_id(job_id: str) -> Job | None:
    return row_get(Job, "job_id", job_id)


def queries_watched(db: BaseDatabaseWrapper) -> bool:
    """Whether something records or wraps this connection's queries.

    DEBUG, CaptureQueriesContext (and the query-counting test tools built on it)
    and ``execute_wrapper`` all see only what passes through Django's cursor:
    while this is true, the prepared INSERTs use Django's cursor too.
    """
    return db.queries_logged or bool(db.execute_wrappers)


def _params(db: BaseDatabaseWrapper, row: Model, statement: _Insert) -> list[Any]:
    now = timezone.now()
    for attname in statement.stamped:
        if getattr(row, attname) is None:  # a time the caller set on purpose is kept
            setattr(row, attname, now)
    params = []
    for field, verbatim in zip(statement.fields, statement.verbatim, strict=True):
        value = getattr(row, field.attname)
        params.append(
            value if verbatim and (value is None or type(value) is str) else field.get_db_prep_save(value, db)
        )
    return params


def _execute(db: BaseDatabaseWrapper, row: M, statement: _Insert, params: list[Any]) -> M:
    meta = row._meta
    with _cursor(db) as (cursor, driver):
        cursor.execute(statement.sql.text(driver), params)
        if meta.auto_field is None:
            pass  # the primary key was one of the values
        elif db.features.can_return_columns_from_insert:
            row.pk = cursor.fetchone()[0]
        else:
            row.pk = db.ops.last_insert_id(cursor, meta.db_table, meta.pk.column)
    row._state.adding = False
    row._state.db = db.alias
    return row


@contextmanager
def _cursor(db: BaseDatabaseWrapper) -> Iterator[tuple[Any, bool]]:
    """A cursor for an INSERT, and whether it is the driver's own (which takes the driver's placeholders).

    Django's wrapper is kept whenever something watches queries (see
    ``queries_watched``). The driver's cursor gets what the wrapper would have
    given: the thread, transaction and health checks, and the driver's errors
    raised as Django's (an IntegrityError stays one).
    """
    if queries_watched(db):
        with db.cursor() as cursor:
            yield cursor, False
        return
    db.validate_thread_sharing()
    db.validate_no_broken_transaction()
    db.close_if_health_check_failed()
    db.ensure_connection()
    with db.wrap_database_errors:
        cursor = db.connection.cursor()
        try:
            yield cursor, True
        finally:
            cursor.close()


class _Sql(NamedTuple):
    """One statement in the two placeholder styles it may be sent in."""

    django: str  # %s, as Django's cursor takes it
    driver: str  # as the driver takes it (sqlite3 wants ?)

    @classmethod
    def of(cls, sql: str, vendor: str) -> _Sql:
        return cls(sql, sql.replace("%s", "?") if vendor == "sqlite" else sql)

    def text(self, driver: bool) -> str:
        return self.driver if driver else self.django


@functools.cache
def _link_to(model: type[Model], parent: type[Model]) -> Field:
    (link,) = [field for field in model._meta.concrete_fields if field.is_relation and field.related_model is parent]
    return link


@dataclass(frozen=True)
class _Insert:
    sql: _Sql
    fields: list[Field]
    # Per field: a str (or None) is stored as it is. True for text fields, whose
    # conversion (Field.get_db_prep_save, CharField.to_python) returns a str unchanged.
    verbatim: list[bool]
    # Fields set to the current time on insert (auto_now, auto_now_add).
    stamped: list[str]


@functools.cache
def _insert_statement(model: type[Model], vendor: str, replace: bool) -> _Insert:
    quote = connection.ops.quote_name
    meta = model._meta
    # Every column but a database-generated primary key.
    fields = [field for field in meta.concrete_fields if field is not meta.auto_field]
    columns = ", ".join(quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders})"  # noqa: S608
    if replace:
        updates = ", ".join(f"{quote(f.column)} = excluded.{quote(f.column)}" for f in fields if not f.primary_key)
        sql += f" ON CONFLICT ({quote(meta.pk.column)}) DO UPDATE SET {updates}"
    if meta.auto_field is not None and connection.features.can_return_columns_from_insert:
        sql += f" RETURNING {quote(meta.pk.column)}"
    return _Insert(
        sql=_Sql.of(sql, vendor),
        fields=fields,
        verbatim=[_stores_text_verbatim(field) for field in fields],
        stamped=[f.attname for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)],
    )


def _stores_text_verbatim(field: Field) -> bool:
    kind = type(field)
    return (
        isinstance(field, CharField | TextField)
        and kind.get_db_prep_save is Field.get_db_prep_save
        and kind.get_db_prep_value is Field.get_db_prep_value
        and kind.get_prep_value in (CharField.get_prep_value, TextField.get_prep_value)
        and kind.to_python in (CharField.to_python, TextField.to_python)
    )


@functools.cache
def _select_statement(model: type[Model], column: str) -> tuple[str, list[tuple[Any, list]]]:
    quote = connection.ops.quote_name
    meta = model._meta
    columns = ", ".join(quote(field.column) for field in meta.concrete_fields)
    sql = f"SELECT {columns} FROM {quote(meta.db_table)} WHERE {quote(column)} = %s"  # noqa: S608
    converters = []
    for field in meta.concrete_fields:
        expression = field.get_col(meta.db_table)
        converters.append(
            (expression, connection.ops.get_db_converters(expression) + field.get_db_converters(connection))
        )
    return sql, converters
