"""The ODA protocol's answers (docs/protocol.md), built from the registry.

Views parse and authenticate; this module says what a job looks like on the
wire, in every state, so that oda-api and the frontend keep working unchanged.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

from django.conf import settings

from jobs.api_code import api_code_for
from jobs.models import Job, JobEvent
from jobs.products import products_load
from jobs.states import Status

# Our statuses in the protocol's vocabulary: clients know no "aborted".
_WIRE_STATUS = {
    # A UWS job waiting for PHASE=RUN: to the protocol's clients it is simply queued.
    Status.PENDING: "submitted",
    Status.SUBMITTED: "submitted",
    Status.PROGRESS: "progress",
    Status.DONE: "done",
    Status.FAILED: "failed",
    Status.ABORTED: "failed",
}


def job_answer(
    job: Job, *, session_id: str = "", comment: str = "", events: list[JobEvent] | None = None
) -> dict[str, Any]:
    """The full /run_analysis answer for a job, whatever its state.

    ``events`` may be given when known (a job just created has none to show).
    A finished job's answer changes only with its answer_version, so it is built once
    per process and personalized with the caller's session. The key holds the row's
    primary key: a purged job asked for again is a new row with the same job id and
    versions counting from 0 again. It holds the job id too, since a primary key is
    reused where a transaction that inserted rows was rolled back (SQLite hands out
    the rolled-back ids again: every test that rolls back does so).
    """
    session_id = session_id or job.session_id
    if job.is_terminal and not comment:
        key = answer_key(job)
        answer = _finished_answers.get(key)
        if answer is None:
            answer = _build_answer(job, comment="", events=events)
            _finished_answers.put(key, answer)
    else:
        answer = _build_answer(job, comment=comment, events=events)
    return _personalized(answer, session_id)


def answer_key(job: Job) -> tuple[int, str, int]:
    """What a finished job's answer (or anything drawn from it) is cached under: see job_answer."""
    return (job.pk, job.job_id, job.answer_version)


def _build_answer(job: Job, *, comment: str, events: list[JobEvent] | None) -> dict[str, Any]:
    status = _WIRE_STATUS[job.status]
    events = list(job.events.all()) if events is None else events
    listing = products_load(job)
    failed = status == "failed"
    return {
        "query_status": status,
        "job_status": status,
        "session_id": "",
        "time_request": 0.0,
        "job_monitor": {
            "job_id": job.job_id,
            "session_id": "",
            "status": status,
            "full_report_dict_list": _reports(events),
        },
        "exit_status": {
            "status": 1 if failed else 0,
            "job_status": status,
            "message": job.message if failed else "",
            "error_message": job.message if failed else "",
            "debug_message": "",
            "comment": _join(comment, listing["comment"]),
            "warning": "",
            **_notification_statuses(events),
        },
        "products": {
            "analysis_parameters": analysis_parameters(job, session_id=""),
            "api_code": api_code_for(job, url=settings.PUBLIC_URL),
            "job_id": job.job_id,
            "session_id": "",
            **listing["lists"],
        },
    }


def _personalized(answer: dict[str, Any], session_id: str) -> dict[str, Any]:
    """A copy of ``answer`` for this caller: only the session and the time differ."""
    products = answer["products"]
    return {
        **answer,
        "session_id": session_id,
        "time_request": time.time(),
        "job_monitor": {**answer["job_monitor"], "session_id": session_id},
        "products": {
            **products,
            "session_id": session_id,
            "analysis_parameters": {**products["analysis_parameters"], "session_id": session_id},
        },
    }


class _LruCache:
    """A small thread-safe LRU map (gunicorn serves with threads)."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


_finished_answers = _LruCache(size=512)


def analysis_parameters(job: Job, *, session_id: str) -> dict[str, Any]:
    return {
        **job.params,
        "instrument": job.instrument,
        "product_type": job.product_type,
        "query_type": job.query_type,
        "job_id": job.job_id,
        "session_id": session_id,
    }


def _reports(events: list[JobEvent]) -> list[dict[str, Any]]:
    reports = []
    for event in events:
        if event.kind != JobEvent.Kind.PROGRESS:
            continue
        reports.append({**event.data, "message": event.message, "time": event.created_at.timestamp()})
    return reports


def _notification_statuses(events: list[JobEvent]) -> dict[str, str]:
    """The latest outcome per channel, as exit_status.email_status / matrix_message_status."""
    keys = {"email": "email_status", "matrix": "matrix_message_status"}
    statuses: dict[str, str] = {}
    for event in events:
        if event.kind == JobEvent.Kind.NOTIFICATION and event.data.get("channel") in keys:
            statuses[keys[event.data["channel"]]] = str(event.data.get("status_text", event.message))
    return statuses


def _join(*parts: str) -> str:
    return "; ".join(part for part in parts if part)
