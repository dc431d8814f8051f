"""The protocol's JSON error body, built in one place for every view.

oda-api reads ``exit_status.message`` (else ``error``) from a failed answer, and
the frontend reads ``error_message``: every error body carries all of them.
"""

from __future__ import annotations

from typing import Any

from django.http import JsonResponse


def error_body(message: str, **extra: Any) -> dict[str, Any]:
    """The error fields of the protocol; ``extra`` adds top-level fields (e.g. installed_instruments)."""
    return {
        "error": message,
        "error_message": message,
        "exit_status": {"status": 1, "message": message, "error_message": message},
        **extra,
    }


def error_response(message: str, status: int, **extra: Any) -> JsonResponse:
    """A JSON error answer with the protocol's fields and the given HTTP status."""
    return JsonResponse(error_body(message, **extra), status=status)


def exception_response(exc: Exception, **extra: Any) -> JsonResponse:
    """The answer for one of our error values: anything with ``status_code`` (and ``message``).

    AuthError and JobError both qualify; their texts are written for users and
    never contain a token.
    """
    message = getattr(exc, "message", None) or str(exc)
    return error_response(message, getattr(exc, "status_code", 400), **extra)
