"""One structured log line per request: method, path (never the query string), status, duration, job id.

Tokens and signed links travel in query strings, so the path is logged without
it; the job id comes from the URL (``/jobs/<job_id>/``) or the request's
``job_id`` field, which is not a secret (it only opens a job with the owner's
token or a signed link).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

log = logging.getLogger("dispatcher.requests")


class RequestLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.monotonic()
        status = 500
        try:
            response = self.get_response(request)
            status = response.status_code
            return response
        finally:
            fields = {
                "method": request.method,
                "path": request.path,
                "status": status,
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
                "job_id": _job_id(request),
            }
            log.info("request %s", logfmt(fields), extra={"request_fields": fields})


def logfmt(fields: dict[str, object]) -> str:
    """key=value pairs; values with spaces, quotes or '=' are JSON-quoted; empty ones left out."""
    parts = []
    for key, value in fields.items():
        if value in (None, ""):
            continue
        text = str(value)
        if not text or any(char in text for char in ' "=\\') or not text.isprintable():
            text = json.dumps(text)
        parts.append(f"{key}={text}")
    return " ".join(parts)


def _job_id(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is not None and match.kwargs.get("job_id"):
        return str(match.kwargs["job_id"])[:64]
    # Read the query only: touching request.POST here would consume the body before a view reads it.
    return str(request.GET.get("job_id", ""))[:64]
