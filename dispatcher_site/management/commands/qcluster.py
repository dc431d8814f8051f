"""``manage.py qcluster``: django-q2's worker cluster, with the task timer beside it.

The same command and options as django-q2's own (this app comes before
django_q in INSTALLED_APPS, so its command is the one run), with two additions:

- it waits for the broker before starting the cluster: django-q2's cluster exits
  at once when its first ping fails, so a worker host started during a Redis
  outage (or ``make run`` started just before Redis) would stop, and ``serve``
  with it. Once running, django-q2 rides out an outage by itself;
- the thread of ``jobs.timer`` in the cluster's main process, started once the
  workers are forked and stopped with them.
"""

from __future__ import annotations

import logging
import os
import time

from django.conf import settings
from django_q.brokers import get_broker
from django_q.cluster import Cluster
from django_q.management.commands.qcluster import Command as DjangoQCommand

from jobs.timer import TaskTimer

log = logging.getLogger(__name__)
BROKER_WAIT_S = (1, 2, 5)


class Command(DjangoQCommand):
    help = "Starts a django-q2 cluster, and the task timer (delayed tasks, the requeue sweep) beside it."

    def handle(self, *args, **options) -> None:
        settings.SECRET_KEY  # noqa: B018 -- as django-q2's own: no cluster without a signing key
        if options.get("cluster_name"):
            os.environ["Q_CLUSTER_NAME"] = options["cluster_name"]
        _broker_awaited()
        cluster = Cluster()
        cluster.start()
        if options.get("run_once"):
            cluster.stop()
            return
        # Started after the fork of the cluster's processes: none of them inherits the thread.
        timer = TaskTimer()
        timer.start()
        try:
            while cluster.sentinel.is_alive():
                time.sleep(0.5)  # SIGTERM/SIGINT stop the cluster from django-q2's handler
        finally:
            timer.stop()
            timer.join(timeout=5)


def _broker_awaited() -> None:
    """Return once the broker answers a ping; log once while it does not."""
    waited = 0
    while not _broker_answers():
        if waited == 0:
            log.warning("the task broker does not answer; the workers start once it does")
        time.sleep(BROKER_WAIT_S[min(waited, len(BROKER_WAIT_S) - 1)])
        waited += 1
    if waited:
        log.warning("the task broker answers; starting the workers")


def _broker_answers() -> bool:
    try:
        return get_broker().ping() is not False
    except Exception:  # every broker fails its own way (redis, the ORM broker's database)
        return False
