"""The task timer: a thread beside each worker cluster (``manage.py qcluster``).

Twice a second it hands due delayed tasks (polls, retries, tasks the broker
refused) to the broker; every REQUEUE_EVERY_S it runs the requeue sweep, which
calls the backend again for jobs whose worker died in a call or whose task was
lost. Neither needs the broker to be up to run (django-q2's own schedules do: they
are tasks themselves), and neither holds a worker's slot while it waits.
Several clusters may each run one: both steps are safe to run in several places.
"""

from __future__ import annotations

import logging
import threading
import time

from django.db import DatabaseError, close_old_connections, connection

from jobs import scheduling, services

log = logging.getLogger(__name__)

TICK_S = 0.5
REQUEUE_EVERY_S = 10.0


class TaskTimer(threading.Thread):
    def __init__(self) -> None:
        super().__init__(name="task-timer", daemon=True)
        self._stopping = threading.Event()
        self._next_requeue = 0.0
        self._failing = False

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        try:
            while not self._stopping.wait(TICK_S):
                close_old_connections()  # this thread's connection, as a request's would be
                self.tick()
        finally:
            connection.close()

    def tick(self) -> None:
        try:
            scheduling.delayed_tasks_send()
            if time.monotonic() >= self._next_requeue:
                self._next_requeue = time.monotonic() + REQUEUE_EVERY_S
                services.jobs_requeue()
        except DatabaseError as error:
            if not self._failing:  # once per outage, not twice a second
                log.warning("task timer: the database is out (%s); trying on", error)
            self._failing = True
            connection.close()
            return
        if self._failing:
            log.warning("task timer: the database is back")
        self._failing = False
