"""Putting work on the django-q2 queue: now, a little later, or on a recurring schedule."""

from __future__ import annotations

import time
from datetime import timedelta

from django.utils import timezone
from django.utils.module_loading import import_string
from django_q.models import Schedule
from django_q.tasks import async_task

# django-q2's scheduler looks at schedules about every 30 s; a shorter delay is
# served by a task that sleeps, which holds a worker for at most this long.
SHORT_DELAY_S = 5.0

# Recurring upkeep (jobs.tasks): name -> (task, minutes between runs).
SCHEDULES = {
    "jobs: fail stale jobs": ("jobs.tasks.stale_jobs_fail", 1),
    "jobs: purge old jobs": ("jobs.tasks.old_jobs_purge", 60),
}


def enqueue(func: str, *args) -> str:
    """Queue ``func(*args)`` now; returns the task id."""
    return async_task(func, *args, group=func.rsplit(".", 1)[-1])


def enqueue_later(func: str, *args, delay_s: float) -> None:
    if delay_s <= SHORT_DELAY_S:
        enqueue("jobs.scheduling.run_after", delay_s, func, *args)
        return
    Schedule.objects.create(
        func=func,
        args=",".join(repr(arg) for arg in args),
        schedule_type=Schedule.ONCE,
        repeats=1,
        next_run=timezone.now() + timedelta(seconds=delay_s),
        name=None,
    )


def run_after(delay_s: float, func: str, *args) -> None:
    time.sleep(max(0.0, min(delay_s, SHORT_DELAY_S)))
    import_string(func)(*args)


def schedules_ensure(**kwargs) -> None:
    """Create or update the recurring schedules (after every migrate); running it twice changes nothing."""
    for name, (func, minutes) in SCHEDULES.items():
        Schedule.objects.update_or_create(
            name=name,
            defaults={"func": func, "schedule_type": Schedule.MINUTES, "minutes": minutes, "repeats": -1},
        )
