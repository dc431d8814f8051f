"""Blocking job reads: ``GET /uws/jobs/{id}?WAIT=n[&PHASE=p]`` (UWS 1.1, section 2.2.1.1).

The request returns as soon as the job's phase differs from the phase it had
when the request came (or from ``PHASE``), or after ``n`` seconds, capped by
DISPATCHER_UWS_MAX_WAIT_S (``WAIT=-1`` means the cap). It blocks only while the
job is active (PENDING, QUEUED, EXECUTING) and, when ``PHASE`` is given, only
while the job is still in that phase: otherwise the client's view is stale and
the answer is immediate.

How it waits: a short poll of one indexed row (status, archived_at) every
POLL_INTERVAL_S, closing the thread's database connection before each sleep.
A waiting request therefore holds no connection (no PostgreSQL backend slot, no
SQLite snapshot) while it sleeps; the price is one reconnect per poll (about
10 ms on PostgreSQL, nothing on SQLite), which at two polls a second is cheap.
Listening for a notification instead would need a connection held open for the
whole wait, and a channel (LISTEN/NOTIFY, Redis) that the SQLite deployment lacks.

What it cannot avoid is the web thread: gunicorn runs 2 workers x 2 threads, and
a waiting request occupies one of those four threads. So that waits never starve
other requests, each process lets at most MAX_BLOCKING_PER_PROCESS requests block
at once; a request beyond that is answered at once, as the standard allows (a
server may return before the time asked), and the client simply asks again.
"""

from __future__ import annotations

import threading
import time

from django.conf import settings
from django.db import connection

from jobs.errors import InvalidRequest
from jobs.interfaces.uws.phases import ACTIVE_PHASES, job_phase, phase_for
from jobs.models import Job

POLL_INTERVAL_S = 0.5
# With 2 threads per gunicorn worker, one thread of each always stays free for other requests.
MAX_BLOCKING_PER_PROCESS = 1
_blocking_slots = threading.BoundedSemaphore(MAX_BLOCKING_PER_PROCESS)


def wait_seconds(raw: str | None) -> float:
    """The time a ``WAIT`` value asks for, capped; 0 when absent. -1 (any negative) means the cap."""
    if raw is None or raw.strip() == "":
        return 0.0
    try:
        asked = int(raw)
    except ValueError:
        raise InvalidRequest(f"WAIT must be an integer number of seconds (or -1), not {raw!r}.") from None
    cap = float(settings.UWS_MAX_WAIT_S)
    return cap if asked < 0 else min(float(asked), cap)


def job_wait(*, job: Job, wait_s: float, phase: str | None = None) -> Job:
    """The job, once its phase changed or ``wait_s`` passed (at once when there is nothing to wait for)."""
    current = job_phase(job)
    if wait_s <= 0 or current not in ACTIVE_PHASES or (phase is not None and phase != current):
        return job
    if not _blocking_slots.acquire(blocking=False):
        return job
    try:
        _poll_until_changed(job.pk, current, deadline=time.monotonic() + wait_s)
    finally:
        _blocking_slots.release()
    job.refresh_from_db()
    return job


def _poll_until_changed(pk: int, phase: str, *, deadline: float) -> None:
    while True:
        _release_connection()
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        time.sleep(min(POLL_INTERVAL_S, remaining))
        # Served by the primary key; reads two columns only.
        row = Job.objects.filter(pk=pk).values_list("status", "archived_at").first()
        if row is None or phase_for(row[0], archived=row[1] is not None) != phase:
            return


def _release_connection() -> None:
    # Inside a transaction (a test's, or ATOMIC_REQUESTS) closing would break it: keep it then.
    if not connection.in_atomic_block:
        connection.close()
