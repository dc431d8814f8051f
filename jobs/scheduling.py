"""Putting work on the django-q2 queue: now, a little later, or on a recurring schedule.

A task for later is a ``DelayedTask`` row until it is due; the task timer of each
worker cluster (``jobs.timer``) hands due rows to the broker. No worker sleeps
waiting for a poll's time to come, and no spent row stays behind (django-q2's own
one-off schedules fire at most every 30 s, and a ``repeats=1`` one stays forever).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone
from django_q.brokers import get_broker
from django_q.models import Schedule, Task
from django_q.tasks import async_task

from jobs.errors import QueueUnavailable
from jobs.models import DelayedTask

log = logging.getLogger(__name__)

# Recurring upkeep (jobs.tasks): name -> (task, minutes between runs).
SCHEDULES = {
    "jobs: fail stale jobs": ("jobs.tasks.stale_jobs_fail", 1),
    "jobs: purge old jobs": ("jobs.tasks.old_jobs_purge", 60),
}
# A due task being handed over is hidden from other timers this long; if the broker
# refused it, it is tried again after that.
HANDOVER_S = 30
HANDOVER_BATCH = 200


def enqueue(func: str, *args) -> str:
    """Queue ``func(*args)`` now; returns the task id. QueueUnavailable when the broker refuses."""
    try:
        return async_task(func, *args, group=func.rsplit(".", 1)[-1])
    except Exception as error:  # each broker fails its own way: redis, the ORM broker's database, sockets
        log.warning("the task broker refused %s: %s: %s", func, type(error).__name__, error)
        raise QueueUnavailable() from error


def enqueue_later(func: str, *args, delay_s: float) -> None:
    """Queue ``func(*args)`` in ``delay_s`` seconds (kept in the database until then)."""
    DelayedTask.objects.create(func=func, args=list(args), due_at=timezone.now() + timedelta(seconds=delay_s))


def delayed_tasks_send(*, now=None) -> int:
    """Hand the due delayed tasks to the broker; returns how many went.

    Several timers may run at once (one per worker cluster): a task goes to the one
    that moves its due time first. A task the broker refuses stays, and is tried
    again HANDOVER_S later.
    """
    now = now or timezone.now()
    due = DelayedTask.objects.filter(due_at__lte=now).order_by("due_at")
    sent = 0
    for pk, func, args, due_at in due.values_list("pk", "func", "args", "due_at")[:HANDOVER_BATCH]:
        hidden = now + timedelta(seconds=HANDOVER_S)
        if not DelayedTask.objects.filter(pk=pk, due_at=due_at).update(due_at=hidden):
            continue  # another timer has it
        try:
            enqueue(func, *args)
        except QueueUnavailable:
            break  # the broker is out: the rest wait as well
        DelayedTask.objects.filter(pk=pk).delete()
        sent += 1
    return sent


def queue_is_empty() -> bool:
    """Nothing waits on the broker for this cluster's queue (False when that cannot be told)."""
    try:
        return get_broker().queue_size() == 0
    except Exception:  # an unreachable broker cannot vouch for anything
        return False


def task_results_purge(*, older_than_days: float) -> int:
    """Remove django-q2's records of tasks that ended more than ``older_than_days`` ago.

    django-q2 keeps the last ``save_limit`` successes but every failure, forever;
    returns how many records went.
    """
    removed, _ = Task.objects.filter(stopped__lt=timezone.now() - timedelta(days=older_than_days)).delete()
    return removed


def schedules_ensure(**kwargs) -> None:
    """Create or update the recurring schedules (after every migrate); running it twice changes nothing."""
    for name, (func, minutes) in SCHEDULES.items():
        Schedule.objects.update_or_create(
            name=name,
            defaults={"func": func, "schedule_type": Schedule.MINUTES, "minutes": minutes, "repeats": -1},
        )
