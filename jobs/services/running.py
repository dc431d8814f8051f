"""Running jobs: the backend call, call-backs, polling, finishing, failing and the stale-job sweep.

These are the services between the job registry and the instrument adapters.
Every function takes ids, is safe to call twice (django-q2 may deliver a task
again), and ends a job it cannot finish as failed with a message the user can act on.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from instruments.base import AdapterError, Products, RunOutcome, RunRequest
from instruments.exceptions import InstrumentError
from instruments.registry import InstrumentHandle, instrument_get
from jobs import scheduling
from jobs.errors import IllegalTransition, QueueUnavailable
from jobs.models import Job
from jobs.products import products_keep_files, products_remove, products_store_lists
from jobs.services.records import (
    job_lease_release,
    job_lease_renew,
    job_lease_take,
    job_move,
    job_note_backend,
    job_record_repeated_done,
    job_report_progress,
    job_task_resent,
    lease_free,
)
from jobs.signing import SIGNATURE_PARAM, callback_url, job_owner_token
from jobs.states import Status

log = logging.getLogger(__name__)

# Calls of the backend in one attempt: the first, and retries after transient errors
# or after the worker making a call died.
MAX_BACKEND_CALLS = 3
RETRY_BACKOFF_S = (10, 60)
# A task that finds the job's lease held by another worker (a poll while products are
# being collected) comes back this much later.
BUSY_AGAIN_S = 2.0
# Call-back actions that end a job; any other action counts as progress.
DONE_ACTIONS = frozenset({"done"})
FAILED_ACTIONS = frozenset({"failed"})
_SECRET_REPORT_FIELDS = frozenset({SIGNATURE_PARAM, "token"})


def job_start(job: Job) -> Job:
    """Queue the first backend call of the job's attempt, after commit (a worker must find the row).

    A broker that refuses the task loses nothing: the task waits as a delayed task
    (in the database) until the task timer can hand it over, and the caller's
    answer is the job accepted.
    """
    job_id, attempt = job.job_id, job.attempt
    transaction.on_commit(lambda: _enqueue_or_keep("jobs.tasks.job_run_task", job_id, attempt, 1))
    return job


def job_execute(*, job_id: str, attempt: int | None = None, call: int | None = None) -> None:
    """Make call number ``call`` of the backend for the job's ``attempt`` (the body of the run task).

    A task for another attempt, or for a call already made (a task delivered twice),
    does nothing. A task without numbers (queued by an earlier version) makes the
    next call of the current attempt.
    """
    job = _unfinished(job_id)
    if job is None or (attempt is not None and attempt != job.attempt):
        return
    call = call or job.backend_calls + 1
    if call > MAX_BACKEND_CALLS:
        job_fail(job_id=job_id, message=f"The backend could not be reached after {MAX_BACKEND_CALLS} calls.")
        return
    handle = _handle_or_fail(job)
    if handle is None:
        return
    lease = job_lease_take(job_id=job_id, attempt=job.attempt, call=call, lease_s=settings.RUN_LEASE_S)
    if lease is None:
        log.info("job %s: call %d of attempt %d is made or being made elsewhere", job_id, call, job.attempt)
        return
    if job.status == Status.SUBMITTED:
        try:
            job_move(job_id=job_id, to=Status.PROGRESS, message="backend called")
        except IllegalTransition:  # aborted meanwhile
            job_lease_release(job_id=job_id, lease=lease)
            return
    _call_with_lease(job_id, handle, lease, call, lambda adapter, request: adapter.run(request))


def job_poll(*, job_id: str, attempt: int | None = None) -> None:
    """Ask the backend how a running job stands (fallback when call-backs do not come)."""
    _ask_backend(job_id, attempt, "jobs.tasks.job_poll_task", lambda adapter, request: adapter.poll(request))


def job_callback(*, job_id: str, report: dict[str, Any]) -> bool:
    """Record a backend's report. Returns False for a repeat, which changes nothing.

    ``done`` hands the collection of products to a task, so a web worker never
    waits on the backend; ``failed`` ends the job at once.
    """
    report = _without_secrets(report)
    action = str(report.get("action", "progress")) or "progress"
    event = job_report_progress(
        job_id=job_id,
        message=str(report.get("message", "")),
        data=report,
        dedup_key=_report_key(report),
        task_due=action in DONE_ACTIONS,
    )
    if event is None:
        return False
    if action in DONE_ACTIONS and event.status == Status.DONE:
        # Done once: the repeat is kept as such, and notifications refuse a second notice.
        job_record_repeated_done(job_id=job_id)
    elif action in DONE_ACTIONS:
        attempt = event.attempt
        transaction.on_commit(lambda: _enqueue_or_keep("jobs.tasks.job_complete_task", job_id, report, attempt))
    elif action in FAILED_ACTIONS:
        job_fail(job_id=job_id, message=str(report.get("message") or "The backend reported a failure."))
    return True


def job_complete_from_report(*, job_id: str, report: dict[str, Any], attempt: int | None = None) -> None:
    """The backend said done: collect the products through the adapter."""
    _ask_backend(
        job_id,
        attempt,
        "jobs.tasks.job_complete_task",
        lambda adapter, request: adapter.complete(request, report),
        task_args=(report,),
    )


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


def jobs_fail_stale(*, now: datetime | None = None) -> list[str]:
    """End the jobs that cannot be waited for any longer; returns their ids.

    Two clocks. Silence is the backend's: a job in progress that waits on its
    backend (no call in flight, no task of ours due) and has not heard from it
    (since the call, its last answer or report) for the instrument's timeout failed;
    this is what ends a job whose backend went away. Waiting for a worker is ours:
    a job whose run, poll or products' collection waits in the queue is never
    silent; it fails only past DISPATCHER_QUEUE_TIMEOUT_S (a day by default), with
    its own message, so a backlog drains and fails nothing. A call in flight (a
    worker holds the lease) is bounded by the call's own timeouts.
    """
    now = now or timezone.now()
    queue_limit = now - timedelta(seconds=settings.QUEUE_TIMEOUT_S)
    waited_too_long = Job.objects.filter(
        Q(status=Status.SUBMITTED, last_report_at__lt=queue_limit)
        | Q(status=Status.PROGRESS, task_due_at__lt=queue_limit)
    )
    failed = [job_id for job_id in list(waited_too_long.values_list("job_id", flat=True)) if _fail_waited(job_id)]
    waiting_on_backend = Job.objects.filter(lease_free(now), status=Status.PROGRESS, task_due_at__isnull=True)
    for job_id, instrument, heard_at in list(waiting_on_backend.values_list("job_id", "instrument", "last_report_at")):
        if heard_at is not None and heard_at >= now - timedelta(seconds=_silence_limit_s(instrument)):
            continue
        message = "The backend has been silent for too long; the job was stopped. Please submit it again."
        if job_fail(job_id=job_id, message=message):
            failed.append(job_id)
    return failed


def _fail_waited(job_id: str) -> bool:
    hours = settings.QUEUE_TIMEOUT_S / 3600
    message = (
        f"The job waited more than {hours:g} h in the queue without a free worker to run it "
        "(the service is overloaded). Please submit it again later."
    )
    return job_fail(job_id=job_id, message=message) is not None


@dataclass
class Requeued:
    """What one requeue sweep did: the jobs whose worker died in a call, and those whose task was lost."""

    worker_died: list[str] = field(default_factory=list)
    task_lost: list[str] = field(default_factory=list)


def jobs_requeue(*, now: datetime | None = None) -> Requeued:
    """Call the backend again for the jobs that a dead worker or a lost task left hanging.

    - A lease that ran out: the worker making a backend call died (killed, or past
      the task timeout) without letting go. The call is made again.
    - A task due on the queue for more than DISPATCHER_REQUEUE_AFTER_S that no worker
      took up, while the queue is empty: it was lost (fetched by a worker cluster
      that was then killed, or the broker restarted empty). The backend is called
      again. While the queue is not empty, tasks are still waiting their turn, and
      none is resent.

    Each call counts towards MAX_BACKEND_CALLS; a call sent twice by a race is
    refused by the lease, so the sweep may run in several places at once.
    """
    now = now or timezone.now()
    done = Requeued()
    unfinished = Job.objects.filter(status__in=[Status.SUBMITTED, Status.PROGRESS])
    for job_id, lease in list(unfinished.filter(lease_until__lt=now).values_list("job_id", "lease_until")):
        if job_lease_release(job_id=job_id, lease=lease):
            _call_again(job_id, "The worker calling the backend stopped")
            done.worker_died.append(job_id)
    due_long_ago = unfinished.filter(
        lease_free(now),
        task_due_at__lt=now - timedelta(seconds=settings.REQUEUE_AFTER_S),
    )
    if due_long_ago.exists() and scheduling.queue_is_empty():
        for job_id, due_since in list(due_long_ago.values_list("job_id", "task_due_at")):
            if job_task_resent(job_id=job_id, due_since=due_since):
                _call_again(job_id, "A task of this job was lost on its way to a worker")
                done.task_lost.append(job_id)
    if done.worker_died or done.task_lost:
        log.warning("jobs called again: worker died %s, task lost %s", done.worker_died, done.task_lost)
    return done


def _call_again(job_id: str, what_happened: str) -> None:
    job = _unfinished(job_id)
    if job is None:
        return
    if job.backend_calls >= MAX_BACKEND_CALLS:
        job_fail(job_id=job_id, message=f"{what_happened}, and the backend was called {job.backend_calls} times.")
        return
    if job.backend_calls:
        job_report_progress(
            job_id=job_id, message=f"{what_happened}; calling the backend again.", data={"action": "retry"}
        )
    _enqueue_or_keep("jobs.tasks.job_run_task", job_id, job.attempt, job.backend_calls + 1)


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
        attempt=job.attempt,
        call=max(job.backend_calls, 1),
        owner_token=job_owner_token(job),
    )


def _unfinished(job_id: str) -> Job | None:
    """The job, unless it is gone or already ended (a task may arrive late or twice)."""
    job = Job.objects.filter(job_id=job_id).first()
    return None if job is None or job.is_terminal else job


def _ask_backend(job_id: str, attempt: int | None, task: str, ask: Callable, task_args: tuple = ()) -> None:
    """Put one more question to the backend of a running job: ask(adapter, request).

    If another worker holds the job's lease (a call in flight), the question comes
    back a little later, as a task: no worker waits.
    """
    job = _unfinished(job_id)
    if job is None or (attempt is not None and attempt != job.attempt):
        return
    handle = _handle_or_fail(job)
    if handle is None:
        return
    lease = job_lease_take(job_id=job_id, attempt=job.attempt, lease_s=settings.RUN_LEASE_S)
    if lease is None:
        scheduling.enqueue_later(task, job_id, *task_args, job.attempt, delay_s=BUSY_AGAIN_S)
        return
    _call_with_lease(job_id, handle, lease, max(job.backend_calls, 1), ask)


def _call_with_lease(job_id: str, handle: InstrumentHandle, lease: datetime, call: int, ask: Callable) -> None:
    """Make one call through the job's adapter while holding (and renewing) its lease.

    The job is read again under the lease (the call counted, the move to progress).
    A poll the outcome asks for is queued once the lease is let go, so that it
    never finds the lease still held.
    """
    poll_after_s = None
    with _lease_kept(job_id, lease):
        job = _unfinished(job_id)
        if job is not None:
            poll_after_s = _call_adapter(job, handle, call, lambda request: ask(handle.adapter, request))
    if poll_after_s is not None:
        scheduling.enqueue_later("jobs.tasks.job_poll_task", job_id, job.attempt, delay_s=poll_after_s)


@contextmanager
def _lease_kept(job_id: str, lease: datetime) -> Iterator[None]:
    """Renew the job's lease from a thread while the body runs, and let it go at the end.

    If this worker dies, the renewals stop and the lease runs out: the requeue
    sweep then calls the backend again (jobs_requeue).
    """
    held = {"lease": lease}
    stop = threading.Event()

    def renew() -> None:
        try:
            while not stop.wait(settings.RUN_LEASE_S / 3):
                renewed = job_lease_renew(job_id=job_id, lease=held["lease"], lease_s=settings.RUN_LEASE_S)
                if renewed is None:
                    return  # let go elsewhere (the job ended, or a sweep took it): nothing to keep
                held["lease"] = renewed
        except DatabaseError as error:
            log.warning("job %s: could not renew its lease: %s", job_id, error)
        finally:
            connection.close()  # this thread's own connection

    renewer = threading.Thread(target=renew, name=f"lease-{job_id[:8]}", daemon=True)
    renewer.start()
    try:
        yield
    finally:
        stop.set()
        renewer.join()
        job_lease_release(job_id=job_id, lease=held["lease"])


def _enqueue_or_keep(func: str, *args) -> None:
    """Queue a task now; if the broker refuses it, keep it as a delayed task due now (the outbox)."""
    try:
        scheduling.enqueue(func, *args)
    except QueueUnavailable:
        scheduling.enqueue_later(func, *args, delay_s=0)


def _call_adapter(job: Job, handle: InstrumentHandle, call: int, ask: Callable) -> float | None:
    """One call through the adapter, its outcome applied; returns the delay of the poll it asks for."""
    try:
        outcome = ask(run_request_for(job))
    except AdapterError as error:
        _after_adapter_error(job, error, call)
        return None
    except Exception:
        # An adapter bug must not leave the job running forever.
        log.exception("adapter %s crashed on job %s", handle.kind, job.job_id)
        job_fail(job_id=job.job_id, message=f"The {job.instrument} backend adapter failed unexpectedly.")
        return None
    return _apply_outcome(job, outcome)


def _apply_outcome(job: Job, outcome: RunOutcome) -> float | None:
    if outcome.state == "done":
        job_finish(job_id=job.job_id, products=outcome.products or Products())
        return None
    poll_due = None
    if outcome.poll_after_s is not None:
        poll_due = timezone.now() + timedelta(seconds=outcome.poll_after_s)
    job_note_backend(job_id=job.job_id, backend_ref=outcome.backend_ref, next_task_due=poll_due)
    if outcome.message:
        job_report_progress(job_id=job.job_id, message=outcome.message, data={"action": "progress", "by": "adapter"})
    return outcome.poll_after_s


def _after_adapter_error(job: Job, error: AdapterError, call: int) -> None:
    if error.debug:
        log.warning("backend error on job %s: %s", job.job_id, error.debug)
    if error.retryable and call < MAX_BACKEND_CALLS:
        delay = RETRY_BACKOFF_S[min(call, len(RETRY_BACKOFF_S)) - 1]
        job_report_progress(
            job_id=job.job_id,
            message=f"{error.message} Trying again in {delay} s.",
            data={"action": "retry", "call": call},
        )
        scheduling.enqueue_later("jobs.tasks.job_run_task", job.job_id, job.attempt, call + 1, delay_s=delay)
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
