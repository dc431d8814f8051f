"""Every write to the job registry goes through these functions."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from jobs.exceptions import IllegalTransition, JobNotFound
from jobs.models import Job, JobEvent
from jobs.signals import job_event_recorded
from jobs.states import ALLOWED_FROM, TERMINAL, Status


def job_id_compute(
    *, owner: str, instrument: str, product_type: str, params: dict[str, Any], query_type: str = "Real"
) -> str:
    """The protocol's job id: SHA-256 of the canonical JSON of what was asked, and by whom."""
    asked = {"instrument": instrument, "product_type": product_type, "query_type": query_type, "params": params}
    canonical = json.dumps(
        {"owner": owner, **asked},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def job_get_or_create(
    *,
    owner: str,
    instrument: str,
    product_type: str,
    params: dict[str, Any],
    query_type: str = "Real",
    session_id: str = "",
    claims: dict[str, Any] | None = None,
) -> tuple[Job, bool]:
    """The job for this request, created if new. Safe under concurrent identical calls."""
    job_id = job_id_compute(
        owner=owner, instrument=instrument, product_type=product_type, params=params, query_type=query_type
    )
    existing = Job.objects.filter(job_id=job_id).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            job = Job.objects.create(
                job_id=job_id,
                owner=owner,
                instrument=instrument,
                product_type=product_type,
                params=params,
                query_type=query_type,
                session_id=session_id,
                claims=claims or {},
            )
            _record_event(job, kind=JobEvent.Kind.STATUS, message="job submitted")
    except IntegrityError:
        # Another request created it between our read and our insert.
        return Job.objects.get(job_id=job_id), False
    return job, True


def job_move(*, job_id: str, to: Status, message: str = "", data: dict | None = None) -> Job:
    """Move a job forward to ``to``; refuse any other move with IllegalTransition.

    Restating ``progress`` while in progress changes nothing and records nothing.
    """
    with transaction.atomic():
        job = _get(job_id)
        if to == Status.PROGRESS and job.status == Status.PROGRESS:
            return job
        changed = Job.objects.filter(pk=job.pk, status__in=ALLOWED_FROM[to]).update(**_fields_for(to, message))
        if not changed:
            job.refresh_from_db(fields=["status"])
            raise IllegalTransition(job_id, job.status, to)
        job.refresh_from_db()
        _record_event(job, kind=JobEvent.Kind.STATUS, message=message or f"job {to}", data=data)
    return job


def job_report_progress(
    *, job_id: str, message: str = "", data: dict | None = None, dedup_key: str | None = None
) -> JobEvent | None:
    """Record a progress report; a report already recorded under ``dedup_key`` is ignored.

    Returns the new event, or None for a repeat. Reports on a finished job are kept
    (they are history) but do not move it.
    """
    with transaction.atomic():
        job = _get(job_id)
        if not job.is_terminal and job.status != Status.PROGRESS:
            job = job_move(job_id=job_id, to=Status.PROGRESS, message="backend started")
        # A report shows the backend is alive: the stale-job sweep counts from here.
        Job.objects.filter(pk=job.pk).update(updated_at=timezone.now())
        try:
            with transaction.atomic():
                return _record_event(job, kind=JobEvent.Kind.PROGRESS, message=message, data=data, dedup_key=dedup_key)
        except IntegrityError:
            return None


def job_record_notification(*, job_id: str, message: str, data: dict | None = None) -> JobEvent:
    """Keep a notification outcome in the job's history; never changes its status."""
    with transaction.atomic():
        return _record_event(_get(job_id), kind=JobEvent.Kind.NOTIFICATION, message=message, data=data)


def _get(job_id: str) -> Job:
    try:
        return Job.objects.get(job_id=job_id)
    except Job.DoesNotExist:
        raise JobNotFound(job_id) from None


def _fields_for(to: Status, message: str) -> dict[str, Any]:
    now = timezone.now()
    fields: dict[str, Any] = {"status": to, "updated_at": now}
    if to == Status.PROGRESS:
        fields["started_at"] = Coalesce("started_at", now)
    if to in TERMINAL:
        fields["finished_at"] = now
        fields["message"] = message
    return fields


def _record_event(
    job: Job,
    *,
    kind: JobEvent.Kind,
    message: str = "",
    data: dict | None = None,
    dedup_key: str | None = None,
) -> JobEvent:
    event = JobEvent.objects.create(
        job=job, kind=kind, status=job.status, message=message, data=data or {}, dedup_key=dedup_key
    )
    transaction.on_commit(lambda: job_event_recorded.send(sender=JobEvent, event=event))
    return event
