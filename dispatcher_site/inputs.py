"""Text a request may carry: what every database we run on stores, checked where requests come in.

PostgreSQL refuses the NUL character in text and ``\\u0000`` in jsonb; no database
takes a lone surrogate (half of a UTF-16 pair: JSON's ``"\\ud800"`` decodes to one,
UTF-8 cannot encode it). SQLite would store the first and fail on the second.
Such text is refused where it enters, with a message naming the field, so that
both databases give the same 400:

- every plain view's URL parts, query and form fields: ``errors_rendered_by``
  (``dispatcher_site.errors``), before the view parses anything;
- the REST API's URL parts and query (its ``RestView``) and JSON bodies
  (``dispatcher_site.rest.JsonBodyParser``);
- tokens' claims (``dispatcher_site.auth``), which jobs keep.

One exception: the ODA protocol's clients send None as the single character
``"\\x00"`` (``NONE_MARKER``). A query or form field whose whole value is that
marker is taken as not sent, for the parameters (whose default it asks for) and
for every other field alike.

These functions return the problem as text (None when there is none); the
callers raise it as their own error.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest, QueryDict

NONE_MARKER = "\x00"  # how oda-api sends None (instruments.parameters has its twin)
# No request of ours nests JSON deeper; code that walks a value recursively (schemas,
# serializers, drivers) stays far from Python's recursion limit.
MAX_JSON_DEPTH = 64

_SURROGATE = re.compile("[\ud800-\udfff]")


def text_problem(text: str) -> str | None:
    """What makes ``text`` unstorable (a phrase after "it ..."), or None."""
    if "\x00" in text:
        return "contains a NUL character (\\x00)"
    if _SURROGATE.search(text):
        return "contains a lone surrogate (\\ud800-\\udfff), which is not Unicode text"
    return None


def json_problem(value: Any) -> str | None:
    """What makes a decoded JSON value unstorable, naming where (``params.src_name``), or None.

    A text or key with NUL or a lone surrogate, a number that is NaN or Infinity
    (Python reads them, JSON columns refuse them), nesting past MAX_JSON_DEPTH.
    """
    pending: list[tuple[Any, str, int]] = [(value, "", 1)]
    while pending:
        item, path, depth = pending.pop()
        where = path or "the value"
        if depth > MAX_JSON_DEPTH:
            return f"it is nested deeper than {MAX_JSON_DEPTH} levels"
        if isinstance(item, str):
            problem = text_problem(item)
            if problem:
                return f"{where} {problem}"
        elif isinstance(item, float) and not math.isfinite(item):
            return f"{where} is not a finite number (NaN and Infinity are not JSON)"
        elif isinstance(item, dict):
            for key, child in item.items():
                problem = text_problem(str(key))
                if problem:
                    return f"a name in {where} {problem}"
                pending.append((child, _json_path(path, str(key)), depth + 1))
        elif isinstance(item, list | tuple):
            pending.extend((child, _json_path(path, f"[{index}]"), depth + 1) for index, child in enumerate(item))
    return None


def _json_path(path: str, step: str) -> str:
    if len(path) > 80:
        return path  # deep enough to find it
    return f"{path}{step}" if step.startswith("[") or not path else f"{path}.{step}"


def fields_problem(fields: QueryDict, *, none_marker: bool = True) -> str | None:
    """A sentence naming the first field (name or value) that cannot be stored, or None.

    ``none_marker``: a value that is the protocol's None passes (see ``request_none_markers_dropped``).
    """
    for name, values in fields.lists():
        problem = text_problem(name)
        if problem:
            return f"A field name ({name!r}) {problem}; please send it without."
        for value in values:
            if none_marker and value == NONE_MARKER:
                continue
            problem = text_problem(value)
            if problem:
                return f"The field {name} {problem}; please send it without."
    return None


def path_problem(parts: Mapping[str, Any]) -> str | None:
    """A sentence naming the first part of the URL (``job_id``...) that cannot be stored, or None."""
    for name, value in parts.items():
        problem = text_problem(str(value))
        if problem:
            return f"The {name} in the URL {problem}; no {name} does."
    return None


def request_problem(request: HttpRequest, path_parts: Mapping[str, Any]) -> str | None:
    """The first URL part, query or form field of a plain Django request that cannot be stored."""
    problem = path_problem(path_parts) or fields_problem(request.GET)
    if problem is None and request.method == "POST":
        problem = fields_problem(request.POST)
    return problem


def request_none_markers_dropped(request: HttpRequest) -> None:
    """Take the query and form fields sent as the protocol's None as not sent."""
    request.GET = _without_markers(request.GET)
    if request.method == "POST":
        request.POST = _without_markers(request.POST)


def _without_markers(fields: QueryDict) -> QueryDict:
    if not any(value == NONE_MARKER for _, values in fields.lists() for value in values):
        return fields
    kept = QueryDict(mutable=True, encoding=fields.encoding)
    for name, values in fields.lists():
        values = [value for value in values if value != NONE_MARKER]
        if values:
            kept.setlist(name, values)
    kept._mutable = False
    return kept


class RepeatedValues(list):
    """A form or query field sent several times (``scw_list=a&scw_list=b``), its values in order.

    List parameters take them as their items; any other parameter refuses them
    (``instruments.parameters``) rather than silently keeping one.
    """
