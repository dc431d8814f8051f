"""/inspect-state and /inspect-user-state: recent jobs with their history, for people and staff."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.db.models import Prefetch
from django.utils import timezone

from dispatcher_site.auth import Caller
from jobs.access import JobFilter, Scope, jobs_listed
from jobs.errors import InvalidRequest
from jobs.models import Job, JobEvent

MAX_RECORDS = 500


def inspect(query: Mapping[str, str], *, caller: Caller, everyone: bool) -> dict[str, Any]:
    """Records of recent jobs: everyone's (a job manager only), or the caller's own."""
    if not everyone and caller.is_public:
        raise InvalidRequest("Please give your token: the state shown is that of your own jobs.")
    since = timezone.now() - timedelta(days=_recent_days(query.get("recent_days")))
    filters = JobFilter(job_id=query.get("job_id") or None, created_after=since)
    jobs = jobs_listed(caller=caller, scope=Scope.EVERYONE if everyone else Scope.OWN, filters=filters)
    jobs = jobs.prefetch_related(Prefetch("events", queryset=JobEvent.objects.order_by("id")))[:MAX_RECORDS]
    records = [_record(job) for job in jobs]
    if str(query.get("group_by_job", "")).lower() in ("true", "1", "yes"):
        return {"records": records, "group_by_job": True}
    return {"records": records}


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


def _record(job: Job) -> dict[str, Any]:
    return {
        "job_id": job.job_id,
        "owner": job.owner,
        "instrument": job.instrument,
        "product_type": job.product_type,
        "status": job.status,
        "session_id": job.session_id,
        "created": job.created_at.isoformat(),
        "finished": job.finished_at.isoformat() if job.finished_at else None,
        "message": job.message,
        "events": [
            {"time": e.created_at.isoformat(), "kind": e.kind, "status": e.status, "message": e.message}
            for e in job.events.all()
        ],
    }
