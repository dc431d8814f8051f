"""The progress page of a notebook run: nb2workflow's ``/trace/<job dir>/<notebook>``.

The job's directory on the backend is in nb2workflow's answer to the same request
(``jobdir``, once the run has started), so the request is asked again with the
arguments it was run with, as a poll does: nb2workflow finds the run by them. The
page is the notebook rendered as HTML so far; with ``include_glued_output`` false
(the default; the setting ``progress_glued_output`` adds them) without the outputs' data.
A synchronous backend has no page: asking it again would wait for the run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from instruments.base import AdapterError, RunRequest

if TYPE_CHECKING:
    from instruments.nb2workflow.adapter import Nb2workflowAdapter

TRACE_PATH = "/trace/"
# The page is asked for while a person waits: never as long as a run may take.
MAX_WAIT_S = 10.0


def progress_page(adapter: Nb2workflowAdapter, request: RunRequest) -> str:
    """The HTML trace of the request's notebook run; AdapterError when there is none (yet)."""
    if not adapter._is_async():
        # Asking a synchronous run again would wait for it (or start another): nothing to show meanwhile.
        raise AdapterError(f"The {adapter.name} backend runs its notebooks synchronously: no progress page.")
    timeout_s = min(adapter._timeout_s(), MAX_WAIT_S)
    query = dict((request.backend_ref or {}).get("query") or adapter._query(request))
    job_dir = _job_dir(adapter, request, query, timeout_s)
    params = {} if _truthy(adapter.settings.get("progress_glued_output")) else {"include_glued_output": "False"}
    path = f"{TRACE_PATH}{quote(job_dir, safe='')}/{quote(request.product_type, safe='')}"
    response = adapter._get(path, params=params, timeout_s=timeout_s)
    if response.status_code != 200:
        raise AdapterError(
            f"The {adapter.name} backend has no progress page for this job (HTTP {response.status_code}).",
            debug=response.text[:1000],
        )
    return response.text


def _job_dir(adapter: Nb2workflowAdapter, request: RunRequest, query: dict[str, str], timeout_s: float) -> str:
    from instruments.nb2workflow.adapter import RUN_PATH

    # The same arguments as the run's own calls (with the owner's _token where the adapter adds it).
    arguments = {**query, **adapter._token_argument(request)}
    response = adapter._get(RUN_PATH + quote(request.product_type, safe=""), params=arguments, timeout_s=timeout_s)
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    found = _find_job_dir(body)
    if not found:
        raise AdapterError(f"The {adapter.name} backend has not started this job yet.", debug=response.text[:1000])
    # nb2workflow names the directory by its full path; the trace wants its last part.
    return found.rstrip("/").rsplit("/", 1)[-1]


def _find_job_dir(body: Any) -> str:
    if not isinstance(body, dict):
        return ""
    for holder in (body, body.get("data")):
        if isinstance(holder, dict) and isinstance(holder.get("jobdir"), str):
            return holder["jobdir"]
    return ""


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() in {"1", "true", "yes", "on"}
