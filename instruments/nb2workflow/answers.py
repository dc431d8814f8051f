"""Reading nb2workflow's answers to ``GET /api/v1.0/get/<target>``.

A finished run gives a :class:`Reading` with products; a running one gives its
``workflow_status``; everything else is an AdapterError carrying the backend's own
message, retryable only when asking again can help (5xx without a notebook
exception, which includes overload and restarts).
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from instruments.base import AdapterError, Products
from instruments.nb2workflow.outputs import products_from_output
from instruments.ontology import Ontology

RUNNING = frozenset({"submitted", "started"})
MAX_MESSAGE = 1000

# Terminal colours in tracebacks, raw or as they appear inside a repr.
_ANSI = re.compile(r"(?:\x1b|\\x1b)\[[0-9;]*[A-Za-z]")
# nb2workflow quotes a URL it could not fetch, with the owner's token it appended (token=...).
_TOKEN_IN_URL = re.compile(r"(?i)([?&](?:_)?token=)[^&\s'\"]+")
_QUOTED = r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\""
# A papermill execution error's repr: (exec_count, cell_index, source, ename, evalue, traceback)
_PAPERMILL = re.compile(rf"\(\d+, \d+, (?:{_QUOTED}), (?P<ename>{_QUOTED}), (?P<evalue>{_QUOTED})")


@dataclass(frozen=True)
class Reading:
    """A backend's answer that is not a failure."""

    status: str  # "submitted", "started" or "done"
    products: Products | None = None
    comment: str = ""


def read_answer(
    status_code: int,
    text: str,
    *,
    instrument: str,
    outputs: Mapping[str, Mapping[str, Any]],
    ontology: Ontology | None = None,
) -> Reading:
    """What an answer means; raises AdapterError for every kind of failure.

    ``ontology`` types the outputs through their class hierarchy (``outputs``).
    """
    body = _json(text)
    if status_code >= 400:
        raise _http_error(status_code, body, text, instrument)
    if not isinstance(body, dict):
        raise AdapterError(
            f"The {instrument} backend gave an answer that is not JSON (HTTP {status_code}).",
            debug=without_tokens(text[:MAX_MESSAGE]),
        )
    status = body.get("workflow_status")
    if status in RUNNING:
        return Reading(status=status, comment=str(body.get("comment") or ""))
    if status == "done":
        return _finished(body.get("data"), instrument, outputs, ontology)
    if "output" in body:
        return _finished(body, instrument, outputs, ontology)
    raise AdapterError(
        f"The {instrument} backend gave an unexpected answer (workflow status {status!r}).",
        debug=without_tokens(text[:MAX_MESSAGE]),
    )


def _finished(
    data: Any, instrument: str, outputs: Mapping[str, Mapping[str, Any]], ontology: Ontology | None
) -> Reading:
    if not isinstance(data, dict):
        raise AdapterError(
            f"The {instrument} backend reported done without any result.", debug=without_tokens(repr(data)[:999])
        )
    exceptions = data.get("exceptions") or []
    if exceptions:
        raise AdapterError(
            _failure_message(instrument, exceptions), debug=without_tokens(repr(exceptions)[:MAX_MESSAGE])
        )
    output = data.get("output")
    if not isinstance(output, dict):
        raise AdapterError(f"The {instrument} notebook did not complete (output: {str(output)[:100]!r}).")
    if not output:
        raise AdapterError(
            f"The {instrument} notebook produced no output; it may have failed to start (see the backend's log)."
        )
    return Reading(status="done", products=products_from_output(output, outputs, ontology))


def _http_error(status_code: int, body: Any, text: str, instrument: str) -> AdapterError:
    if isinstance(body, dict) and body.get("exceptions"):
        # A notebook that raised (synchronous mode answers 500): asking again gives the same.
        return AdapterError(_failure_message(instrument, body["exceptions"]), debug=without_tokens(text[:MAX_MESSAGE]))
    if status_code == 400 and isinstance(body, dict) and body.get("issues"):
        issues = "; ".join(str(issue) for issue in body["issues"])
        return AdapterError(
            f"The {instrument} backend refused the request: {issues}", debug=without_tokens(text[:MAX_MESSAGE])
        )
    if status_code == 404:
        return AdapterError(f"The {instrument} backend does not offer this product (HTTP 404).")
    return AdapterError(
        f"The {instrument} backend answered HTTP {status_code}.",
        retryable=status_code >= 500 or status_code == 429,
        debug=without_tokens(text[:MAX_MESSAGE]),
    )


def _failure_message(instrument: str, exceptions: list[Any]) -> str:
    texts = list(dict.fromkeys(filter(None, (exception_text(e) for e in exceptions))))
    return without_tokens(f"The {instrument} notebook failed: {'; '.join(texts) or 'an unknown error'}")[:MAX_MESSAGE]


def exception_text(exception: Any) -> str:
    """'RuntimeError: cannot compute' from an async ``{ename, evalue}`` or a sync repr string."""
    if isinstance(exception, dict):
        ename, evalue = str(exception.get("ename", "")), str(exception.get("evalue", ""))
        return _clean(f"{ename}: {evalue}" if evalue else ename)
    text = str(exception)
    found = [f"{ast.literal_eval(m['ename'])}: {ast.literal_eval(m['evalue'])}" for m in _PAPERMILL.finditer(text)]
    return "; ".join(dict.fromkeys(found)) if found else _clean(text)


def _clean(text: str) -> str:
    return _ANSI.sub("", text).strip()[:MAX_MESSAGE]


def without_tokens(text: str) -> str:
    """The text with the value of every ``token=`` of a URL in it redacted."""
    return _TOKEN_IN_URL.sub(r"\1[redacted]", text)


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None
