"""Recurring upkeep, run by django-q2 schedules created idempotently after migrate.

- "jobs: fail stale jobs" ends jobs whose backend has been silent past the
  instrument's timeout. Failing a job emits its "failed" event, which the
  notifications app turns into the owner's notice and the incident rooms'
  (DISPATCHER_MATRIX_INCIDENT_ROOMS); the sweep also logs a warning that names
  the jobs, for operators reading logs.
- "jobs: purge old jobs" removes finished jobs older than DISPATCHER_RETENTION_DAYS,
  rows and product files together.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django_q.models import Schedule

from jobs.execution import jobs_fail_stale
from jobs.maintenance import jobs_purge

log = logging.getLogger(__name__)

# name -> (task, minutes between runs)
SCHEDULES = {
    "jobs: fail stale jobs": ("jobs.upkeep.stale_jobs_fail", 1),
    "jobs: purge old jobs": ("jobs.upkeep.old_jobs_purge", 60),
}


def schedules_ensure(**kwargs) -> None:
    """Create or update our schedules; running it twice changes nothing."""
    for name, (func, minutes) in SCHEDULES.items():
        Schedule.objects.update_or_create(
            name=name,
            defaults={"func": func, "schedule_type": Schedule.MINUTES, "minutes": minutes, "repeats": -1},
        )


def stale_jobs_fail() -> int:
    """The body of "jobs: fail stale jobs"; returns how many jobs it failed."""
    failed = jobs_fail_stale()
    if failed:
        log.warning("incident: %d stale job(s) failed: %s", len(failed), ", ".join(job_id[:12] for job_id in failed))
    return len(failed)


def old_jobs_purge() -> int:
    """The body of "jobs: purge old jobs"; returns how many jobs it removed."""
    return jobs_purge(older_than_days=settings.RETENTION_DAYS).jobs
