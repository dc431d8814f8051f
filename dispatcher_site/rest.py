"""The REST API's one error renderer: DRF's exception handler (settings: REST_FRAMEWORK).

Our ServiceErrors, and DRF's own errors (validation, method not allowed...),
leave as the protocol's error JSON with the right status; DRF's usual ``detail``
stays beside it, for clients that read it.

Also the REST API's edge: its JSON bodies (``JsonBodyParser``) and URL parts and
query fields (``rest_request_check``) are refused when no database stores them
(``dispatcher_site.inputs``).
"""

from __future__ import annotations

from typing import Any

from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler

from dispatcher_site.auth import AuthFailed
from dispatcher_site.errors import InvalidRequest, ServiceError, error_body
from dispatcher_site.inputs import MAX_JSON_DEPTH, fields_problem, json_problem, path_problem
from dispatcher_site.outages import with_retry_hint


def rest_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, AuthFailed):
        exc = exc.auth_error
    if isinstance(exc, ServiceError):
        return with_retry_hint(Response(error_body(exc, detail=exc.message), status=exc.status_code), exc)
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


class JsonBodyParser(JSONParser):
    """DRF's JSON parser, refusing bodies no database stores and nesting Python cannot read."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            # Python's parser gives up near a thousand levels (5,000 nested arrays).
            raise InvalidRequest(
                f"The JSON body is refused: it is nested deeper than {MAX_JSON_DEPTH} levels."
            ) from None
        problem = json_problem(data)
        if problem:
            raise InvalidRequest(f"The JSON body is refused: {problem}.")
        return data


def rest_request_check(request: Request, path_parts: dict[str, Any]) -> None:
    """Refuse URL parts and query fields no database stores (the REST API knows no None marker)."""
    problem = path_problem(path_parts) or fields_problem(request.query_params, none_marker=False)
    if problem:
        raise InvalidRequest(problem)
