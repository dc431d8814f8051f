"""UWS's error answers: the one renderer of ServiceErrors as plain text with their status."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from dispatcher_site.errors import ServiceError, errors_rendered_by
from dispatcher_site.outages import with_retry_hint


def text_response(text: str, *, status: int = 200) -> HttpResponse:
    return HttpResponse(text, content_type="text/plain; charset=utf-8", status=status)


def uws_error_response(request: HttpRequest, error: ServiceError) -> HttpResponse:
    return with_retry_hint(text_response(error.message, status=error.status_code), error)


uws_errors = errors_rendered_by(uws_error_response)
