"""The registry's row writes: creating a job, moving it forward, keeping its events.

The other service modules are built on these; nothing outside ``jobs.services``
calls them, except tests that set up jobs in a given state. Every write to the
Job and JobEvent tables is here. Each one that changes what an answer shows
bumps ``Job.answer_version``; only signs of the backend's life move
``Job.last_report_at``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from instruments.base import Products
from jobs.errors import IllegalTransition, JobNotFound
from jobs.models import Job, JobEvent
from jobs.products import products_row
from jobs.signals import job_event_recorded
from jobs.sql import job_by_job_id, row_family_insert, row_insert
from jobs.states import ALLOWED_FROM, RUN_AGAIN_FROM, TERMINAL, Status

log = logging.getLogger("jobs.services")

_STARTS = (Status.SUBMITTED, Status.PENDING)
# The answer changed: every write that changes what an answer shows sets this in its own UPDATE.
_NEXT_VERSION = F("answer_version") + 1


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


def job_get_or_create(*, status: Status = Status.SUBMITTED, **asked: Any) -> tuple[Job, bool]:
    """The job for this request, created in ``status`` (submitted, or pending for UWS) if new.

    ``asked``: owner, instrument, product_type, params, and optionally query_type,
    session_id, claims, run_id. Safe under concurrent identical calls; an existing
    job is returned as it is.
    """
    if status not in _STARTS:
        raise ValueError(f"a job cannot start as {status}")
    job = _job_row(asked, status=status)
    if status == Status.SUBMITTED:
        # Accepted, and its run task due: the queue-wait bound counts from here.
        job.last_report_at = job.task_due_at = timezone.now()
    return _insert_or_get(job, [_status_event(status, f"job {status}")])


def job_create_finished(
    *, outcome: Status, message: str, products: Products | None = None, **asked: Any
) -> tuple[Job, bool]:
    """A job whose whole run happened in this request: recorded as submitted, then ended.

    One transaction writes the job, both events and, for a done job, its product
    lists. Product files, if any, must be written before (jobs.products): no file
    is written while the database's write lock is held.
    """
    if outcome not in TERMINAL:
        raise ValueError(f"a job cannot be created finished as {outcome}")
    if products is not None and outcome != Status.DONE:
        raise ValueError("only a job created done has products")
    now = timezone.now()
    job = _job_row(asked, status=outcome)
    # One instant for all four: a job never finishes before it was created.
    job.message, job.created_at, job.started_at, job.finished_at, job.last_report_at = message, now, now, now, now
    events = [_status_event(Status.SUBMITTED, "job submitted"), _status_event(outcome, message or f"job {outcome}")]
    kept = [products_row(products)] if products is not None else []
    return _insert_or_get(job, [*events, *kept])


def _job_row(asked: dict[str, Any], *, status: Status) -> Job:
    identity = {key: asked[key] for key in ("owner", "instrument", "product_type", "params")}
    query_type = asked.get("query_type", "Real")
    return Job(
        job_id=job_id_compute(**identity, query_type=query_type),
        **identity,
        query_type=query_type,
        session_id=asked.get("session_id", ""),
        claims=asked.get("claims") or {},
        run_id=asked.get("run_id", ""),
        status=status,
    )


def _status_event(status: Status, message: str) -> JobEvent:
    return JobEvent(kind=JobEvent.Kind.STATUS, status=status, message=message)


def _insert_or_get(job: Job, children: list[Any]) -> tuple[Job, bool]:
    # Read first: a repeated request (joining an existing job) then takes no write lock.
    # Inserting first made every join a write transaction that failed on the unique job
    # id and rolled back, queued behind every other writer (SQLite has one); a new job
    # pays a SELECT by the unique index instead. The unique job id still turns a
    # concurrent twin into a read of the existing row.
    existing = job_by_job_id(job.job_id)
    if existing is not None:
        return existing, False
    try:
        row_family_insert(job, children)
    except IntegrityError:
        return Job.objects.get(job_id=job.job_id), False
    for child in children:
        if isinstance(child, JobEvent):
            _announce(child)
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
        _record_event(job, kind=JobEvent.Kind.STATUS, message=message or f"job {to}", data=data, bump=False)
    log.info("job transition job_id=%s from=%s to=%s", job_id, before, job.status, extra={"job_id": job_id})
    return job


def job_attempt_again(*, job_id: str, status: Status = Status.SUBMITTED, message: str = "") -> Job | None:
    """Start the next attempt of a failed or aborted job, in ``status`` (submitted, or pending).

    Same id; the attempt number grows, the backend's calls and reference, the
    message and the times of the ended attempt are cleared, and its events stay in
    the history (each event keeps its attempt). None when the job is not failed or
    aborted (any more: a concurrent request may have started the attempt).
    A failed or aborted job holds no products (only a done one keeps them).
    """
    if status not in _STARTS:
        raise ValueError(f"an attempt cannot start as {status}")
    now = timezone.now() if status == Status.SUBMITTED else None
    fields = {
        "status": status, "attempt": F("attempt") + 1, "backend_calls": 0, "backend_ref": {}, "message": "",
        "started_at": None, "finished_at": None, "lease_until": None, "task_due_at": now, "last_report_at": now,
        "answer_version": _NEXT_VERSION,
    }  # fmt: skip
    with transaction.atomic():
        if not Job.objects.filter(job_id=job_id, status__in=RUN_AGAIN_FROM).update(**fields):
            return None
        job = _get(job_id)
        note = message or f"job {status} again: attempt {job.attempt}"
        _record_event(job, kind=JobEvent.Kind.STATUS, message=note, data={"attempt": job.attempt}, bump=False)
    log.info("job %s attempt %d %s", job_id, job.attempt, status, extra={"job_id": job_id})
    return job


def job_set_archived(*, job_id: str, archived: bool) -> Job:
    """Take a job out of the UWS job list, or bring it back; no status change."""
    with transaction.atomic():
        job = _get(job_id)
        if job.is_archived != archived:
            Job.objects.filter(pk=job.pk).update(
                archived_at=timezone.now() if archived else None, answer_version=_NEXT_VERSION
            )
            job.refresh_from_db()
            message = "job archived" if archived else "job asked for again: no longer archived"
            _record_event(job, kind=JobEvent.Kind.ARCHIVE, message=message, bump=False)
    return job


def job_report_progress(
    *,
    job_id: str,
    message: str = "",
    data: dict | None = None,
    dedup_key: str | None = None,
    task_due: bool = False,
) -> JobEvent | None:
    """Record a progress report; a report already recorded under ``dedup_key`` is ignored.

    Returns the new event, or None for a repeat. Reports on a finished job are kept
    (they are history) but do not move it. A key counts within an attempt: the
    next attempt's backend may say the same things again. ``task_due``: the report
    calls for a task (the products' collection), queued now.
    """
    with transaction.atomic():
        job = _get(job_id)
        if dedup_key is not None and job.attempt > 1:
            dedup_key = f"{job.attempt}:{dedup_key}"
        if not job.is_terminal and job.status != Status.PROGRESS:
            job = job_move(job_id=job_id, to=Status.PROGRESS, message="backend started")
        try:
            with transaction.atomic():
                event = _record_event(
                    job, kind=JobEvent.Kind.PROGRESS, message=message, data=data, dedup_key=dedup_key, bump=False
                )
        except IntegrityError:
            return None
        # A report shows the backend is alive: the stale-job sweep counts from here.
        now = timezone.now()
        fields = {"last_report_at": now, "answer_version": _NEXT_VERSION, **({"task_due_at": now} if task_due else {})}
        Job.objects.filter(pk=job.pk).update(**fields)
        return event


def lease_free(now: datetime) -> Q:
    """Jobs no worker holds at ``now``: no lease, or one that ran out."""
    return Q(lease_until__isnull=True) | Q(lease_until__lt=now)


def job_lease_take(*, job_id: str, attempt: int, lease_s: float, call: int | None = None) -> datetime | None:
    """Take the job's lease for one call of its backend; returns the lease (its token) or None.

    None when the job has ended, is in another attempt, or another worker holds a
    live lease. ``call`` (a run of the backend, numbered within the attempt) also
    counts the call, and is refused unless it is the next one: a task delivered
    twice calls the backend once. Taking the lease for a call is a sign of life,
    the job's silence counts from here.
    """
    now = timezone.now()
    lease = now + timedelta(seconds=lease_s)
    unfinished = [Status.SUBMITTED, Status.PROGRESS]
    rows = Job.objects.filter(lease_free(now), job_id=job_id, attempt=attempt, status__in=unfinished)
    fields: dict[str, Any] = {"lease_until": lease, "task_due_at": None}
    if call is not None:
        rows = rows.filter(backend_calls=call - 1)
        fields.update(backend_calls=call, last_report_at=now)
    return lease if rows.update(**fields) else None


def job_lease_renew(*, job_id: str, lease: datetime, lease_s: float) -> datetime | None:
    """Keep a lease this worker holds (``lease``, as taken or last renewed); the new one, or None if lost."""
    renewed = timezone.now() + timedelta(seconds=lease_s)
    return renewed if Job.objects.filter(job_id=job_id, lease_until=lease).update(lease_until=renewed) else None


def job_lease_release(*, job_id: str, lease: datetime) -> bool:
    """Clear the lease ``lease`` (this worker's, done with its call; or a dead worker's, found by
    the requeue sweep). False if it was renewed, taken over or cleared meanwhile."""
    return bool(Job.objects.filter(job_id=job_id, lease_until=lease).update(lease_until=None))


def job_note_backend(
    *, job_id: str, backend_ref: dict[str, Any] | None = None, next_task_due: datetime | None = None
) -> None:
    """The backend answered: keep where its work can be found again (``backend_ref``) and,
    when a poll is to follow, the time it is due. An answer is a sign of the backend's
    life: the job's silence counts from now."""
    fields: dict[str, Any] = {"last_report_at": timezone.now()}
    if backend_ref:
        fields["backend_ref"] = backend_ref
    if next_task_due is not None:
        fields["task_due_at"] = next_task_due
    Job.objects.filter(job_id=job_id).update(**fields)


def job_task_resent(*, job_id: str, due_since: datetime) -> bool:
    """Record that a lost task was replaced; False if another sweep did it first, or a worker took it up."""
    return bool(Job.objects.filter(job_id=job_id, task_due_at=due_since).update(task_due_at=timezone.now()))


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
    """Keep a notification outcome in the job's history; never changes its status or its stale clock."""
    with transaction.atomic():
        return _record_event(_get(job_id), kind=JobEvent.Kind.NOTIFICATION, message=message, data=data)


def _get(job_id: str) -> Job:
    try:
        return Job.objects.get(job_id=job_id)
    except Job.DoesNotExist:
        raise JobNotFound(job_id) from None


def _fields_for(to: Status, message: str) -> dict[str, Any]:
    now = timezone.now()
    fields: dict[str, Any] = {"status": to, "answer_version": _NEXT_VERSION}
    if to in (Status.SUBMITTED, Status.PROGRESS):
        fields["last_report_at"] = now  # queued, or the backend called: the sweep's clock restarts
    if to == Status.SUBMITTED:
        fields["task_due_at"] = now
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
    bump: bool = True,
) -> JobEvent:
    """Keep one event; ``bump`` says the answer changed (a caller that updates the job row anyway
    sets ``_NEXT_VERSION`` in that same UPDATE and passes False)."""
    event = row_insert(
        JobEvent(
            job=job,
            kind=kind,
            status=job.status,
            message=message,
            data=data or {},
            dedup_key=dedup_key,
            attempt=job.attempt,
        )
    )
    if bump:
        Job.objects.filter(pk=job.pk).update(answer_version=_NEXT_VERSION)
    _announce(event)
    return event


def _announce(event: JobEvent) -> None:
    """Tell subscribers (notifications) of a new event once its transaction has committed."""
    transaction.on_commit(lambda: job_event_recorded.send(sender=JobEvent, event=event))
