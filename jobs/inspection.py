"""/inspect-state and /inspect-user-state: recent jobs with their history, for people and staff."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.db.models import Prefetch
from django.utils import timezone

from jobs.exceptions import InvalidRequest
from jobs.models import Job, JobEvent

MAX_RECORDS = 500


def inspect(query: Mapping[str, str], *, owner: str | None) -> dict[str, Any]:
    """Records of recent jobs; ``owner`` limits them to one person's (None: everyone's)."""
    jobs = Job.objects.order_by("-created_at")
    if owner is not None:
        jobs = jobs.filter(owner=owner)
    if query.get("job_id"):
        jobs = jobs.filter(job_id=query["job_id"])
    days = _recent_days(query.get("recent_days"))
    jobs = jobs.filter(created_at__gte=timezone.now() - timedelta(days=days))
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
