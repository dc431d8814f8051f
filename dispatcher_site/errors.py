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
its interface's renderer; it is also where such a view's request is first looked
at, so it refuses text no database stores there (``dispatcher_site.inputs``).
``methods_allowed`` (and ``get_only``) answer a method a view does not take as that interface's 405.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from dispatcher_site.inputs import request_none_markers_dropped, request_problem


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


class MethodNotAllowed(ServiceError):
    """An HTTP method the endpoint does not take; ``allowed`` become the Allow header."""

    status_code = 405
    code = "method_not_allowed"

    def __init__(self, method: str, allowed: list[str]):
        super().__init__(f"This endpoint does not take {method} requests, only {' or '.join(allowed)}.")
        self.allowed = allowed


Renderer = Callable[[HttpRequest, ServiceError], HttpResponse]


def errors_rendered_by(render: Renderer) -> Callable:
    """Decorate a view so that its ServiceErrors leave through ``render``, its interface's renderer.

    Before the view runs, a URL part, query or form field that no database stores
    is refused (InvalidRequest), and fields sent as the protocol's None are taken
    as not sent (``dispatcher_site.inputs``).
    """

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                problem = request_problem(request, kwargs)
                if problem:
                    raise InvalidRequest(problem)
                request_none_markers_dropped(request)
                return view(request, *args, **kwargs)
            except ServiceError as error:
                return _rendered(render, request, error)

        # methods_allowed, wrapped around this, renders its 405 the same way.
        wrapper.error_renderer = render
        return wrapper

    return decorate


def methods_allowed(*allowed: str) -> Callable:
    """Like Django's ``require_http_methods``, but the 405 is an error of the view's interface.

    It is rendered by the view's renderer (``errors_rendered_by``), else as the JSON
    error body. A view that takes only GET is exempt from the CSRF check: it never
    acts on a POST, and the caller should learn that (405), not about a cookie (403).
    """
    allowed_list = sorted(allowed)

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        render = getattr(view, "error_renderer", _json_error_response)

        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in allowed_list:
                return _rendered(render, request, MethodNotAllowed(request.method or "", allowed_list))
            return view(request, *args, **kwargs)

        return csrf_exempt(wrapper) if set(allowed_list) <= {"GET", "HEAD", "OPTIONS"} else wrapper

    return decorate


get_only = methods_allowed("GET")


def _rendered(render: Renderer, request: HttpRequest, error: ServiceError) -> HttpResponse:
    response = render(request, error)
    if isinstance(error, MethodNotAllowed):
        response["Allow"] = ", ".join(error.allowed)
    return response


def _json_error_response(request: HttpRequest, error: ServiceError) -> HttpResponse:
    return JsonResponse(error_body(error), status=error.status_code)


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
