"""``manage.py qcluster``: django-q2's worker cluster, with the task timer beside it.

The same command, options and behaviour as django-q2's own (this app comes
before django_q in INSTALLED_APPS, so its command is the one run), plus the
thread of ``jobs.timer`` in the cluster's main process, started once the workers
are forked and stopped with them.
"""

from __future__ import annotations

import os
import time

from django.conf import settings
from django_q.cluster import Cluster
from django_q.management.commands.qcluster import Command as DjangoQCommand

from jobs.timer import TaskTimer


class Command(DjangoQCommand):
    help = "Starts a django-q2 cluster, and the task timer (delayed tasks, the requeue sweep) beside it."

    def handle(self, *args, **options) -> None:
        settings.SECRET_KEY  # noqa: B018 -- as django-q2's own: no cluster without a signing key
        if options.get("cluster_name"):
            os.environ["Q_CLUSTER_NAME"] = options["cluster_name"]
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
