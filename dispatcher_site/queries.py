"""When a statement must go through Django's cursor rather than straight to the driver."""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper


def queries_watched(db: BaseDatabaseWrapper) -> bool:
    """Whether something records or wraps this connection's queries.

    DEBUG, CaptureQueriesContext (and the query-counting test tools built on it)
    and ``execute_wrapper`` all see only what passes through Django's cursor. Code
    that sends statements to the driver's own cursor, to save the wrapper's cost,
    must use Django's while this is true.
    """
    return db.queries_logged or bool(db.execute_wrappers)
