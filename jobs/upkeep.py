"""Recurring upkeep, run by django-q2 schedules created idempotently after migrate."""

from __future__ import annotations

from django_q.models import Schedule

# name -> (task, minutes between runs)
SCHEDULES = {
    "jobs: fail stale jobs": ("jobs.tasks.jobs_fail_stale_task", 1),
}


def schedules_ensure(**kwargs) -> None:
    """Create or update our schedules; running it twice changes nothing."""
    for name, (func, minutes) in SCHEDULES.items():
        Schedule.objects.update_or_create(
            name=name,
            defaults={"func": func, "schedule_type": Schedule.MINUTES, "minutes": minutes, "repeats": -1},
        )
