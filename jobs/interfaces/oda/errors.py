"""The ODA protocol's error answers: the one renderer of ServiceErrors as the protocol's JSON.

The body carries ``error``, ``error_message``, ``exit_status.message`` (what
oda-api and the frontend read) and the instruments the caller could have asked
for. The job page's JSON answers use the same body.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from dispatcher_site.auth import AuthError, Caller, caller_from_request
from dispatcher_site.errors import ServiceError, ServiceUnavailable, error_body, errors_rendered_by
from dispatcher_site.outages import with_retry_hint
from jobs.services import instruments_for_caller


def oda_error_response(request: HttpRequest, error: ServiceError) -> JsonResponse:
    # During an outage the instruments may be out of reach too: none are listed.
    names = [] if isinstance(error, ServiceUnavailable) else visible_instrument_names(request)
    body = error_body(error, installed_instruments=names)
    return with_retry_hint(JsonResponse(body, status=error.status_code), error)


def visible_instrument_names(request: HttpRequest, *, strict: bool = False) -> list[str]:
    """Names of the instruments the caller may use. With a bad token, ``strict`` re-raises, else: public."""
    try:
        caller = caller_from_request(request)
    except AuthError:
        if strict:
            raise
        caller = Caller.public()
    return [handle.name for handle in instruments_for_caller(caller)]


# Decorates every view of the protocol (and the token endpoints served beside it).
oda_errors = errors_rendered_by(oda_error_response)
