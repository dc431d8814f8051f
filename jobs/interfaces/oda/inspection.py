"""/inspect-state and /inspect-user-state: recent jobs with their history, for people and staff.

Each record carries our own fields (``job_id``, ``owner``, ``instrument``,
``product_type``, ``status``, ``session_id``, ``created``, ``finished``,
``message``, ``events``) and, beside them, those the earlier dispatcher gave and
``oda-api inspect`` reads: ``mtime`` and ``ctime`` (epoch seconds),
``request_completed``, ``token_expired`` (for a job asked with a token),
``analysis_parameters`` with the ``email_history`` and ``matrix_message_history``
(also at the record's top level, where the earlier dispatcher put them). With
``group_by_job=True`` each record also has ``job_status_data``: one entry per
session that asked for the job (ours keep the first), as the earlier dispatcher's
per-session scratch directories were, named ``scratch_sid_<session>_jid_<job id>``.

A ``job_id`` shorter than a full id matches every job whose id begins with it
(oda-api asks with the first 8 characters).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from dispatcher_site.auth import Caller, TokenRequired
from jobs.access import JobFilter, Scope, jobs_listed
from jobs.errors import InvalidRequest
from jobs.interfaces.oda.answers import analysis_parameters
from jobs.models import Job, JobEvent

MAX_RECORDS = 500
# Records per answer unless ``limit`` asks for more (up to MAX_RECORDS); ``offset`` pages on.
# Every record carries its events, so an unpaged answer of 500 jobs cost a request 40-80 ms
# of CPU against 2 ms for one job: a user's many jobs slowed every one of their requests.
DEFAULT_RECORDS = 10  # as UWS's LAST=10; 20 kept 0.56 of the rate for one job (bench/run.py)
FULL_JOB_ID_LENGTH = 64
_HISTORIES = {"email": "email_history", "matrix": "matrix_message_history"}


def inspect(query: Mapping[str, str], *, caller: Caller, everyone: bool) -> dict[str, Any]:
    """Records of recent jobs: everyone's (a job manager only), or the caller's own."""
    if not everyone and caller.is_public:
        raise TokenRequired()
    since = timezone.now() - timedelta(days=_recent_days(query.get("recent_days")))
    jobs = jobs_listed(caller=caller, scope=Scope.EVERYONE if everyone else Scope.OWN, filters=_filter(query, since))
    offset = _whole(query, "offset", 0, most=MAX_RECORDS)
    limit = _whole(query, "limit", DEFAULT_RECORDS, most=MAX_RECORDS)
    jobs = list(jobs[offset : offset + limit + 1])  # one more: is there a next page?
    more, jobs = len(jobs) > limit, jobs[:limit]
    group_by_job = str(query.get("group_by_job", "")).lower() in ("true", "1", "yes")
    now = time.time()
    events = _events_by_job(jobs)
    answer: dict[str, Any] = {
        "records": [_record(job, events.get(job.pk, []), now=now, grouped=group_by_job) for job in jobs]
    }
    if group_by_job:
        answer["group_by_job"] = True
    if more:
        answer["next_offset"] = offset + limit
    return answer


def _whole(query: Mapping[str, str], name: str, default: int, *, most: int) -> int:
    raw = str(query.get(name) or "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit() and int(raw) <= most):
        raise InvalidRequest(f"{name} must be a whole number from 0 to {most}, not {raw!r}.")
    return int(raw)


def _filter(query: Mapping[str, str], since: datetime) -> JobFilter:
    job_id = str(query.get("job_id") or "").strip()
    if job_id and len(job_id) < FULL_JOB_ID_LENGTH:
        return JobFilter(job_id_prefix=job_id, created_after=since)
    return JobFilter(job_id=job_id or None, created_after=since)


def _recent_days(raw: str | None) -> float:
    if not raw:
        return 7.0
    try:
        days = float(raw)
    except ValueError:
        days = -1.0
    if not 0 <= days < 36500:
        raise InvalidRequest(f"recent_days must be a number of days, not {raw!r}.")
    return days


def _events_by_job(jobs: list[Job]) -> dict[int, list[JobEvent]]:
    """The jobs' events in order, in one query.

    Not ``prefetch_related``: each ``job.events.all()`` then clones a queryset that
    carries every listed job (its known related objects), so 500 records cost 500
    copies of a 500-entry dict: 85 ms of CPU per request of 500 records, against 49 ms
    this way (in one process, through the whole middleware, load average ~6, 2026-12-06).
    """
    by_job: dict[int, list[JobEvent]] = {}
    for event in JobEvent.objects.filter(job__in=[job.pk for job in jobs]).order_by("id"):
        by_job.setdefault(event.job_id, []).append(event)
    return by_job


def _record(job: Job, events: list[JobEvent], *, now: float, grouped: bool) -> dict[str, Any]:
    finished = job.finished_at
    histories = _histories(events)
    content = {
        "analysis_parameters": {**analysis_parameters(job, session_id=job.session_id), **histories},
        **histories,
    }
    record: dict[str, Any] = {
        "job_id": job.job_id,
        "owner": job.owner,
        "instrument": job.instrument,
        "product_type": job.product_type,
        "status": job.status,
        "session_id": job.session_id,
        "created": job.created_at.isoformat(),
        "finished": finished.isoformat() if finished else None,
        "message": job.message,
        "events": [
            {"time": e.created_at.isoformat(), "kind": e.kind, "status": e.status, "message": e.message} for e in events
        ],
        "ctime": job.created_at.timestamp(),
        "mtime": max([job.created_at, *(e.created_at for e in events), *([finished] if finished else [])]).timestamp(),
        "request_completed": job.status == "done",
        "aliased_marker": "",
        **content,
    }
    expired = _token_expired(job, now=now)
    if expired is not None:
        record["token_expired"] = expired
    if grouped:
        record["job_status_data"] = [_job_status(job, record, content)]
    return record


def _job_status(job: Job, record: dict[str, Any], content: dict[str, Any]) -> dict[str, Any]:
    """The earlier dispatcher's per-session entry of a job; its name carries the session id."""
    session = job.session_id.replace("_", "-")  # oda-api reads the session between the 2nd and 3rd "_"
    entry = {
        "scratch_dir_fn": f"scratch_sid_{session}_jid_{job.job_id}",
        "request_completed": record["request_completed"],
        "job_status": record["status"],
        "session_id": job.session_id,
        "scratch_dir_content": content,
    }
    if "token_expired" in record:
        entry["token_expired"] = record["token_expired"]
    return entry


def _histories(events: list[JobEvent]) -> dict[str, list[dict[str, Any]]]:
    """Every notice tried, per channel, in order: when, to what outcome."""
    histories: dict[str, list[dict[str, Any]]] = {key: [] for key in _HISTORIES.values()}
    for event in events:
        key = _HISTORIES.get(str(event.data.get("channel"))) if event.kind == JobEvent.Kind.NOTIFICATION else None
        if key is not None:
            histories[key].append(
                {
                    "ctime": event.created_at.timestamp(),
                    "ctime_isot": event.created_at.strftime("%Y-%m-%dT%H:%M:%S"),
                    "status": str(event.data.get("status_text", event.message)),
                    "message": event.message,
                }
            )
    return histories


def _token_expired(job: Job, *, now: float) -> bool | None:
    """Whether the token the job was asked with has expired since; None for a public job."""
    expires = job.claims.get("exp") if job.owner else None
    return float(expires) < now if isinstance(expires, int | float) else None
