"""``GET /healthz``: is the service ready, and are its database and broker reachable."""

from __future__ import annotations

import logging

from django.db import OperationalError, connection, transaction
from django.http import JsonResponse
from django.views.decorators.http import require_GET
from django_q.brokers import get_broker

from dispatcher_site.sqlite.base import write_wait

log = logging.getLogger(__name__)
# How long the probe waits for SQLite's write lock: the answer must come within 2 s.
WRITE_PROBE_WAIT_S = 1.0


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    if connection.vendor == "sqlite":
        # Reads go on while a process outside the service holds the write lock; writes cannot.
        try:
            with write_wait(WRITE_PROBE_WAIT_S), transaction.atomic():
                pass
        except OperationalError:
            log.warning("health check: no write lock on the database within %g s", WRITE_PROBE_WAIT_S)
            return "locked"
    return "ok"


def _check_broker() -> str:
    broker = get_broker()
    if broker.ping() is False:
        return "unreachable"
    return "ok"


def _probe(check) -> str:
    try:
        return check()
    except Exception as exc:  # a health check reports every failure, it never raises
        log.warning("health check %s failed: %s", check.__name__, exc.__class__.__name__)
        return f"error: {exc.__class__.__name__}"


@require_GET
def healthz(request):
    database = _probe(_check_database)
    broker = _probe(_check_broker)
    healthy = database == "ok" and broker == "ok"
    body = {
        "status": "ok" if healthy else "degraded",
        "database": {"state": database, "vendor": connection.vendor},
        "broker": {"state": broker, "kind": "redis" if _uses_redis() else "orm"},
    }
    return JsonResponse(body, status=200 if healthy else 503)


def _uses_redis() -> bool:
    from django.conf import settings

    return "redis" in settings.Q_CLUSTER
