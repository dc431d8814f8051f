"""django-q2 task entry points: each takes ids, calls one service, and is safe to run twice.

The recurring ones run from the schedules in ``jobs.scheduling.SCHEDULES``:

- "jobs: fail stale jobs" ends jobs whose backend has been silent past the
  instrument's timeout. Failing a job emits its "failed" event, which the
  notifications app turns into the owner's notice and the incident rooms'
  (DISPATCHER_MATRIX_INCIDENT_ROOMS); the sweep also logs a warning that names
  the jobs, for operators reading logs.
- "jobs: purge old jobs" removes finished jobs older than DISPATCHER_RETENTION_DAYS,
  rows and product files together, and django-q2's records of tasks as old (it
  keeps every failed task's record otherwise).
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings

from jobs import previews, scheduling, services

log = logging.getLogger(__name__)


def job_run_task(job_id: str, attempt: int | None = None, call: int | None = None) -> None:
    services.job_execute(job_id=job_id, attempt=attempt, call=call)


def job_poll_task(job_id: str, attempt: int | None = None) -> None:
    services.job_poll(job_id=job_id, attempt=attempt)


def job_complete_task(job_id: str, report: dict[str, Any], attempt: int | None = None) -> None:
    services.job_complete_from_report(job_id=job_id, report=report, attempt=attempt)


def job_preview_task(job_id: str) -> bool:
    """A job's preview, drawn once for the admin's job page (jobs.previews); nothing if already kept."""
    return previews.preview_make_for(job_id=job_id)


def stale_jobs_fail() -> int:
    """The body of "jobs: fail stale jobs"; returns how many jobs it failed."""
    failed = services.jobs_fail_stale()
    if failed:
        log.warning("incident: %d stale job(s) failed: %s", len(failed), ", ".join(job_id[:12] for job_id in failed))
    return len(failed)


def old_jobs_purge() -> int:
    """The body of "jobs: purge old jobs"; returns how many jobs it removed."""
    scheduling.task_results_purge(older_than_days=settings.RETENTION_DAYS)
    return services.jobs_purge(older_than_days=settings.RETENTION_DAYS).jobs
