"""``GET /healthz``: is the service ready, and are its database and broker reachable."""

from __future__ import annotations

import logging

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET
from django_q.brokers import get_broker

log = logging.getLogger(__name__)


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
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
