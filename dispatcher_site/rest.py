"""The REST API's one error renderer: DRF's exception handler (settings: REST_FRAMEWORK).

Our ServiceErrors, and DRF's own errors (validation, method not allowed...),
leave as the protocol's error JSON with the right status; DRF's usual ``detail``
stays beside it, for clients that read it.
"""

from __future__ import annotations

from typing import Any

from rest_framework.response import Response
from rest_framework.views import exception_handler

from dispatcher_site.auth import AuthFailed
from dispatcher_site.errors import ServiceError, error_body


def rest_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, AuthFailed):
        exc = exc.auth_error
    if isinstance(exc, ServiceError):
        return Response(error_body(exc, detail=exc.message), status=exc.status_code)
    response = exception_handler(exc, context)
    if response is not None:
        data = response.data
        detail = data.get("detail", data) if isinstance(data, dict) else data
        response.data = error_body(_detail_text(data), detail=detail)
    return response


def _detail_text(data: Any) -> str:
    """One readable sentence from DRF's error detail (a string, a list or a dict of field errors)."""
    if isinstance(data, dict):
        if set(data) == {"detail"}:
            return str(data["detail"])
        return "; ".join(f"{field}: {_detail_text(errors)}" for field, errors in data.items())
    if isinstance(data, list):
        return " ".join(_detail_text(item) for item in data)
    return str(data)
