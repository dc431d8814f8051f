"""Every write to the job registry goes through these functions."""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from instruments.base import Products
from jobs.exceptions import IllegalTransition, JobNotFound
from jobs.models import Job, JobEvent
from jobs.products import products_keep_files, products_row
from jobs.signals import job_event_recorded
from jobs.sql import row_family_insert, row_insert
from jobs.states import ALLOWED_FROM, TERMINAL, Status

log = logging.getLogger(__name__)


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
    status: Status = Status.SUBMITTED,
    run_id: str = "",
    finished: tuple[Status, str] | None = None,
    products: Products | None = None,
) -> tuple[Job, bool]:
    """The job for this request, created if new. Safe under concurrent identical calls.

    A new job starts in ``status``: submitted, or pending for a UWS job that waits for
    PHASE=RUN. ``finished`` (a terminal status and its message) creates a job whose
    whole run already happened in this request: it is recorded as submitted, then
    finished, in one transaction, with its ``products`` if it is done (their files,
    if any, are written first). An existing job is returned as it is.
    """
    if status not in (Status.SUBMITTED, Status.PENDING):
        raise ValueError(f"a job cannot start as {status}")
    if finished is not None and finished[0] not in TERMINAL:
        raise ValueError(f"a job cannot be created finished as {finished[0]}")
    if products is not None and (finished is None or finished[0] != Status.DONE):
        raise ValueError("only a job created done has products")
    job_id = job_id_compute(
        owner=owner, instrument=instrument, product_type=product_type, params=params, query_type=query_type
    )
    fields: dict[str, Any] = {"status": status}
    events = [JobEvent(kind=JobEvent.Kind.STATUS, status=status, message=f"job {status}")]
    if finished is not None:
        now = timezone.now()
        fields = {"status": finished[0], "message": finished[1], "started_at": now, "finished_at": now}
        events.append(
            JobEvent(kind=JobEvent.Kind.STATUS, status=finished[0], message=finished[1] or f"job {finished[0]}")
        )
    job = Job(
        job_id=job_id,
        owner=owner,
        instrument=instrument,
        product_type=product_type,
        params=params,
        query_type=query_type,
        session_id=session_id,
        claims=claims or {},
        run_id=run_id,
        **fields,
    )
    kept = []
    if products is not None:
        products_keep_files(job_id=job_id, products=products)
        kept.append(products_row(products))
    # Insert first: a new request (the common case) costs no extra read; the unique
    # job id turns a repeat, or a concurrent twin, into a read of the existing row.
    try:
        row_family_insert(job, [*events, *kept])
    except IntegrityError:
        return Job.objects.get(job_id=job_id), False
    for event in events:
        _announce(event)
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
        before = job.status
        job.refresh_from_db()
        _record_event(job, kind=JobEvent.Kind.STATUS, message=message or f"job {to}", data=data)
    log.info("job transition job_id=%s from=%s to=%s", job_id, before, job.status, extra={"job_id": job_id})
    return job


def job_archive(*, job_id: str, message: str = "Deleted by its owner.") -> Job:
    """Take a job out of the UWS job list (its owner deleted it); a running job is aborted first.

    The record, its events and its products stay: the job is still the one that
    answers an identical request (the job id is the hash of the request).
    """
    with transaction.atomic():
        job = _get(job_id)
        if not job.is_terminal:
            job = job_move(job_id=job_id, to=Status.ABORTED, message=message)
        if job.archived_at is None:
            Job.objects.filter(pk=job.pk, archived_at__isnull=True).update(archived_at=timezone.now())
            job.refresh_from_db()
            _record_event(job, kind=JobEvent.Kind.ARCHIVE, message="job archived")
    return job


def job_unarchive(*, job_id: str) -> Job:
    """Bring an archived job back: someone asked for it again."""
    with transaction.atomic():
        job = _get(job_id)
        if job.archived_at is not None:
            Job.objects.filter(pk=job.pk).update(archived_at=None)
            job.refresh_from_db()
            _record_event(job, kind=JobEvent.Kind.ARCHIVE, message="job asked for again: no longer archived")
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


def job_record_resubmitted(*, job_id: str) -> JobEvent:
    """The owner asked again for a job still running: a status event that changes nothing.

    Notifications may send another "submitted" notice for it (at most once per the
    owner's interval, intsub / mxintsub).
    """
    return _note_status(job_id, message="submitted again", data={"resubmitted": True})


def job_record_repeated_done(*, job_id: str) -> JobEvent:
    """A backend reported done again for a finished job: a status event that changes nothing.

    Subscribers see a second ``done``; notifications record that its notice was refused.
    """
    return _note_status(job_id, message="done reported again; the job was already done", data={"repeat": True})


def _note_status(job_id: str, *, message: str, data: dict) -> JobEvent:
    """A status event that restates the job's status, for what subscribers should hear of."""
    with transaction.atomic():
        return _record_event(_get(job_id), kind=JobEvent.Kind.STATUS, message=message, data=data)


def job_record_notification(*, job_id: str, message: str, data: dict | None = None) -> JobEvent:
    """Keep a notification outcome in the job's history; never changes its status."""
    with transaction.atomic():
        job = _get(job_id)
        # The answer of a finished job is cached by updated_at: an outcome must show.
        Job.objects.filter(pk=job.pk).update(updated_at=timezone.now())
        return _record_event(job, kind=JobEvent.Kind.NOTIFICATION, message=message, data=data)


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
    status: str | None = None,
) -> JobEvent:
    event = row_insert(
        JobEvent(job=job, kind=kind, status=status or job.status, message=message, data=data or {}, dedup_key=dedup_key)
    )
    _announce(event)
    return event


def _announce(event: JobEvent) -> None:
    """Tell subscribers (notifications) of a new event once its transaction has committed."""
    transaction.on_commit(lambda: job_event_recorded.send(sender=JobEvent, event=event))
