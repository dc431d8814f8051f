"""Running jobs: the backend call, call-backs, polling, finishing, failing and the stale-job sweep.

These are the services between the job registry and the instrument adapters.
Every function takes ids, is safe to call twice (django-q2 may deliver a task
again), and ends a job it cannot finish as failed with a message the user can act on.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from instruments.base import AdapterError, Products, RunOutcome, RunRequest
from instruments.exceptions import InstrumentError
from instruments.registry import InstrumentHandle, instrument_get
from jobs import scheduling
from jobs.errors import IllegalTransition
from jobs.models import Job
from jobs.products import products_keep_files, products_remove, products_store_lists
from jobs.services.records import (
    job_count_attempt,
    job_move,
    job_note_backend,
    job_record_repeated_done,
    job_report_progress,
)
from jobs.signing import SIGNATURE_PARAM, callback_url
from jobs.states import Status

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
RETRY_BACKOFF_S = (10, 60)
# Call-back actions that end a job; any other action counts as progress.
DONE_ACTIONS = frozenset({"done"})
FAILED_ACTIONS = frozenset({"failed"})
_SECRET_REPORT_FIELDS = frozenset({SIGNATURE_PARAM, "token"})


def job_start(job: Job) -> Job:
    """Queue a submitted job's run, after commit (a worker must find the row)."""
    transaction.on_commit(lambda: scheduling.enqueue("jobs.tasks.job_run_task", job.job_id))
    return job


def job_execute(*, job_id: str) -> None:
    """Call the backend for a job (the body of the run task)."""
    job = _unfinished(job_id)
    if job is None:
        return
    attempt = job_count_attempt(job_id=job_id)
    if attempt > MAX_ATTEMPTS:
        job_fail(job_id=job_id, message=f"The backend could not be reached after {MAX_ATTEMPTS} attempts.")
        return
    handle = _handle_or_fail(job)
    if handle is None:
        return
    if job.status == Status.SUBMITTED:
        job = job_move(job_id=job_id, to=Status.PROGRESS, message="backend called")
    _call_adapter(job, handle, attempt, lambda request: handle.adapter.run(request))


def job_poll(*, job_id: str) -> None:
    """Ask the backend how a running job stands (fallback when call-backs do not come)."""
    _ask_backend(job_id, lambda adapter, request: adapter.poll(request))


def job_callback(*, job_id: str, report: dict[str, Any]) -> bool:
    """Record a backend's report. Returns False for a repeat, which changes nothing.

    ``done`` hands the collection of products to a task, so a web worker never
    waits on the backend; ``failed`` ends the job at once.
    """
    report = _without_secrets(report)
    action = str(report.get("action", "progress")) or "progress"
    event = job_report_progress(
        job_id=job_id, message=str(report.get("message", "")), data=report, dedup_key=_report_key(report)
    )
    if event is None:
        return False
    if action in DONE_ACTIONS and event.status == Status.DONE:
        # Done once: the repeat is kept as such, and notifications refuse a second notice.
        job_record_repeated_done(job_id=job_id)
    elif action in DONE_ACTIONS:
        transaction.on_commit(lambda: scheduling.enqueue("jobs.tasks.job_complete_task", job_id, report))
    elif action in FAILED_ACTIONS:
        job_fail(job_id=job_id, message=str(report.get("message") or "The backend reported a failure."))
    return True


def job_complete_from_report(*, job_id: str, report: dict[str, Any]) -> None:
    """The backend said done: collect the products through the adapter."""
    _ask_backend(job_id, lambda adapter, request: adapter.complete(request, report))


def job_finish(*, job_id: str, products: Products) -> Job | None:
    """Keep the products and mark the job done. None if it had already ended.

    The files are written first, outside any transaction (no file is written while
    the database's write lock is held); the lists and the move to done are one
    transaction, so no reader sees a done job without its lists.
    """
    if _unfinished(job_id) is None:
        return _finished_too_late(job_id)
    products_keep_files(job_id=job_id, products=products)
    with transaction.atomic():
        job = _unfinished(job_id)
        if job is not None:
            products_store_lists(job=job, products=products)
            try:
                return job_move(job_id=job_id, to=Status.DONE, message=products.comment or "job done")
            except IllegalTransition:
                transaction.set_rollback(True)  # ended meanwhile: keep nothing
    return _finished_too_late(job_id)


def _finished_too_late(job_id: str) -> None:
    """A finish that lost to another end: its files go, unless a twin finish made the job done."""
    if not Job.objects.filter(job_id=job_id, status=Status.DONE).exists():
        products_remove(job_id)
    log.info("job %s finished after it ended: its products are not kept, its status stays", job_id)


def job_fail(*, job_id: str, message: str) -> Job | None:
    """Mark a job failed with a message for the user. None if it had already ended."""
    try:
        job = job_move(job_id=job_id, to=Status.FAILED, message=message)
    except IllegalTransition:
        return None
    log.info("job %s failed: %s", job_id, message)
    return job


def jobs_fail_stale(*, now=None) -> list[str]:
    """Fail running jobs whose backend has been silent past the instrument's timeout.

    This is what ends a job whose worker died in the middle of a backend call.
    """
    now = now or timezone.now()
    failed = []
    running = Job.objects.filter(status__in=[Status.SUBMITTED, Status.PROGRESS]).annotate(
        heard_at=Coalesce("last_report_at", "created_at")
    )
    for job in running.only("job_id", "instrument").iterator():
        if job.heard_at >= now - timedelta(seconds=_silence_limit_s(job.instrument)):
            continue
        message = "The backend has been silent for too long; the job was stopped. Please submit it again."
        if job_fail(job_id=job.job_id, message=message):
            failed.append(job.job_id)
    return failed


def run_request_for(job: Job) -> RunRequest:
    return RunRequest(
        job_id=job.job_id,
        instrument=job.instrument,
        product_type=job.product_type,
        params=job.params,
        query_type=job.query_type,
        owner=job.owner,
        callback_url=callback_url(job),
        backend_ref=job.backend_ref,
        attempt=max(job.attempts, 1),
    )


def _unfinished(job_id: str) -> Job | None:
    """The job, unless it is gone or already ended (a task may arrive late or twice)."""
    job = Job.objects.filter(job_id=job_id).first()
    return None if job is None or job.is_terminal else job


def _ask_backend(job_id: str, ask) -> None:
    """Put one more question to the backend of a running job: ask(adapter, request)."""
    job = _unfinished(job_id)
    handle = _handle_or_fail(job) if job is not None else None
    if handle is not None:
        _call_adapter(job, handle, job.attempts or 1, lambda request: ask(handle.adapter, request))


def _call_adapter(job: Job, handle: InstrumentHandle, attempt: int, call) -> None:
    try:
        outcome = call(run_request_for(job))
    except AdapterError as error:
        _after_adapter_error(job, error, attempt)
        return
    except Exception:
        # An adapter bug must not leave the job running forever.
        log.exception("adapter %s crashed on job %s", handle.kind, job.job_id)
        job_fail(job_id=job.job_id, message=f"The {job.instrument} backend adapter failed unexpectedly.")
        return
    _apply_outcome(job, outcome)


def _apply_outcome(job: Job, outcome: RunOutcome) -> None:
    if outcome.state == "done":
        job_finish(job_id=job.job_id, products=outcome.products or Products())
        return
    if outcome.backend_ref:
        job_note_backend(job_id=job.job_id, backend_ref=outcome.backend_ref)
    if outcome.message:
        job_report_progress(job_id=job.job_id, message=outcome.message, data={"action": "progress", "by": "adapter"})
    if outcome.poll_after_s is not None:
        scheduling.enqueue_later("jobs.tasks.job_poll_task", job.job_id, delay_s=outcome.poll_after_s)


def _after_adapter_error(job: Job, error: AdapterError, attempt: int) -> None:
    if error.debug:
        log.warning("backend error on job %s: %s", job.job_id, error.debug)
    if error.retryable and attempt < MAX_ATTEMPTS:
        delay = RETRY_BACKOFF_S[min(attempt, len(RETRY_BACKOFF_S)) - 1]
        job_report_progress(
            job_id=job.job_id,
            message=f"{error.message} Trying again in {delay} s.",
            data={"action": "retry", "attempt": attempt},
        )
        scheduling.enqueue_later("jobs.tasks.job_run_task", job.job_id, delay_s=delay)
        return
    job_fail(job_id=job.job_id, message=error.message)


def _handle_or_fail(job: Job) -> InstrumentHandle | None:
    try:
        return instrument_get(job.instrument)
    except InstrumentError as error:
        job_fail(job_id=job.job_id, message=f"The instrument {job.instrument} is no longer available: {error}")
        return None


def _silence_limit_s(instrument: str) -> float:
    try:
        return instrument_get(instrument).timeout_s
    except InstrumentError:
        return float(settings.TASK_TIMEOUT_S)


def _without_secrets(report: dict[str, Any]) -> dict[str, Any]:
    """A report as kept and shown: never the call-back's signature, never a token it may echo."""
    return {k: v for k, v in report.items() if k not in _SECRET_REPORT_FIELDS}


def _report_key(report: dict[str, Any]) -> str:
    """Identical reports share a key, so a backend repeating itself is harmless."""
    return hashlib.sha256(json.dumps(report, sort_keys=True, default=str).encode()).hexdigest()
