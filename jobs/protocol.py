"""The ODA protocol's answers and request fields (PROTOCOL.md), built from the registry.

Views parse and authenticate; this module says what a job looks like on the
wire, in every state, so that oda-api and the frontend keep working unchanged.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings

from jobs.api_code import api_code_for
from jobs.models import Job, JobEvent
from jobs.products import products_load
from jobs.states import Status

# Fields of /run_analysis that steer the protocol and are never instrument parameters.
PROTOCOL_FIELDS = frozenset(
    {
        "instrument",
        "product_type",
        "query_type",
        "query_status",
        "job_id",
        "session_id",
        "token",
        "dry_run",
        "oda_api_version",
        "api",
        "off_line",
        "async_dispatcher",
        "verbose",
    }
)
QUERY_TYPES = ("Real", "Dummy")

# Our statuses in the protocol's vocabulary: clients know no "aborted".
_WIRE_STATUS = {
    Status.SUBMITTED: "submitted",
    Status.PROGRESS: "progress",
    Status.DONE: "done",
    Status.FAILED: "failed",
    Status.ABORTED: "failed",
}
_HIDDEN_REPORT_FIELDS = frozenset({"sig", "token"})


def instrument_parameters(data: Mapping[str, Any]) -> dict[str, Any]:
    """The request fields that are meant for the instrument."""
    return {key: value for key, value in data.items() if key not in PROTOCOL_FIELDS}


def unused_comment(unused: Iterable[str]) -> str:
    names = sorted(unused)
    if not names:
        return ""
    return f"Please note that argument(s) {', '.join(names)} are not used"


def job_answer(job: Job, *, session_id: str = "", comment: str = "") -> dict[str, Any]:
    """The full /run_analysis answer for a job, whatever its state."""
    session_id = session_id or job.session_id
    status = _WIRE_STATUS[job.status]
    events = list(job.events.all())
    listing = products_load(job.job_id) if job.status == Status.DONE else {"lists": {}, "comment": ""}
    failed = status == "failed"
    return {
        "query_status": status,
        "job_status": status,
        "session_id": session_id,
        "time_request": time.time(),
        "job_monitor": {
            "job_id": job.job_id,
            "session_id": session_id,
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
            "analysis_parameters": analysis_parameters(job, session_id=session_id),
            "api_code": api_code_for(job, url=settings.PUBLIC_URL),
            "job_id": job.job_id,
            "session_id": session_id,
            **listing["lists"],
        },
    }


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
        fields = {k: v for k, v in event.data.items() if k not in _HIDDEN_REPORT_FIELDS}
        reports.append({**fields, "message": event.message, "time": event.created_at.timestamp()})
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
