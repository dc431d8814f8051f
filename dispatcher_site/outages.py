"""Outages of the database, as clients see them: a JSON 503 with a retry hint, never a hang or a 500.

``DatabaseOutageMiddleware`` (near the top of MIDDLEWARE) and ``server_error`` (``handler500``)
do two things for every request:

- it bounds how long the request waits for SQLite's write lock
  (``DISPATCHER_WEB_WRITE_WAIT_S``; ``dispatcher_site.sqlite.write_wait``), so a lock held by
  a process outside the service costs a request seconds, not the whole hold, and no web
  thread hangs with it;
- they turn a database error raised anywhere in the request (django.db OperationalError or
  InterfaceError: connection refused, server gone, "database is locked": in a view through
  ``process_exception``, elsewhere through ``handler500``) into
  ``ServiceUnavailable``, rendered as the protocol's JSON error with status 503 and a
  ``Retry-After`` header, logged once as a warning without a stack trace. oda-api retries a 503.

Errors our views raise on purpose never reach it (each interface renders them); a database
error is not one of ours, and used to leave as Django's HTML 500.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

from dispatcher_site.errors import ServiceError, ServiceUnavailable, error_body
from dispatcher_site.sqlite.base import write_wait

log = logging.getLogger(__name__)

DATABASE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_S = 5


def database_unavailable(error: Exception) -> ServiceUnavailable:
    return ServiceUnavailable(
        "The database is unavailable for a moment; please retry shortly.", retry_after_s=RETRY_AFTER_S
    )


def with_retry_hint(response: HttpResponse, error: ServiceError) -> HttpResponse:
    """Every renderer passes its answer through this: a 503 carries ``Retry-After``."""
    if isinstance(error, ServiceUnavailable):
        response["Retry-After"] = str(max(1, int(error.retry_after_s)))
    return response


class DatabaseOutageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.wait_s = settings.WEB_WRITE_WAIT_S

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with write_wait(self.wait_s):
            return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """A view's database error: answered here, before Django's handler logs it with its stack."""
        if isinstance(exception, DATABASE_ERRORS):
            return unavailable_response(request, exception)
        return None


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: a database error raised outside a view (another middleware, a session
    save) is a 503 too; anything else is Django's plain 500, as before."""
    error = sys.exc_info()[1]
    if isinstance(error, DATABASE_ERRORS):
        return unavailable_response(request, error)
    return defaults.server_error(request)


def unavailable_response(request: HttpRequest, error: Exception) -> HttpResponse:
    first_line = str(error).splitlines()[0][:200] if str(error) else ""
    log.warning(
        "database unavailable: %s: %s (method=%s path=%s): answered 503",
        error.__class__.__name__,
        first_line,
        request.method,
        request.path,
    )
    outage = database_unavailable(error)
    response = with_retry_hint(JsonResponse(error_body(outage), status=outage.status_code), outage)
    response._has_been_logged = True  # logged once, above: Django would add an error line (with a stack)
    return response
