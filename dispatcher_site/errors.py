"""The one error vocabulary of the service, and the JSON body every JSON interface shows it in.

Every error raised on purpose, in any app, derives from ``ServiceError``: it
carries an HTTP status, a stable machine-readable ``code`` and a ``message``
written for the person who made the request (never a token, never a stack).
Views never catch these: each interface renders them in exactly one place
(see docs/architecture.md, "Errors"):

- the ODA protocol (and the job page's JSON): ``jobs.interfaces.oda.errors``;
- the REST API: ``dispatcher_site.rest.rest_exception_handler`` (DRF's hook);
- UWS: ``jobs.interfaces.uws.errors``;
- the job page's HTML: ``jobs.interfaces.page.views``.

``errors_rendered_by`` is the one way a plain Django view hands its errors to
its interface's renderer.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse


class ServiceError(Exception):
    """Base of every error a person can act on: status, stable code, message."""

    status_code: int = 400
    code: str = "invalid_request"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidRequest(ServiceError):
    """A request that cannot be acted on as sent: a missing or malformed field."""

    code = "invalid_request"


class ServiceUnavailable(ServiceError):
    """A part the service depends on (database, task queue) is out for now: try again later.

    Clients retry a 503 (oda-api does); ``retry_after_s`` becomes the Retry-After header.
    """

    status_code = 503
    code = "service_unavailable"

    def __init__(self, message: str, *, retry_after_s: int = 5):
        super().__init__(message)
        self.retry_after_s = retry_after_s


Renderer = Callable[[HttpRequest, ServiceError], HttpResponse]


def errors_rendered_by(render: Renderer) -> Callable:
    """Decorate a view so that its ServiceErrors leave through ``render``, its interface's renderer."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                return view(request, *args, **kwargs)
            except ServiceError as error:
                return render(request, error)

        return wrapper

    return decorate


def error_body(error: ServiceError | str, **extra: Any) -> dict[str, Any]:
    """The protocol's error fields, which every JSON answer of ours carries.

    oda-api reads ``exit_status.message`` (else ``error``) from a failed answer, the
    frontend reads ``error_message``; ``error_code`` is ours, stable for scripts.
    ``extra`` adds top-level fields (e.g. installed_instruments, DRF's detail).
    """
    message = error.message if isinstance(error, ServiceError) else error
    code = error.code if isinstance(error, ServiceError) else "error"
    return {
        "error": message,
        "error_message": message,
        "error_code": code,
        "exit_status": {"status": 1, "message": message, "error_message": message},
        **extra,
    }
