"""Run the whole service on one machine: web server, task workers and (when
configured) the Matrix bot, stopping them all together."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management import get_commands
from django.core.management.base import BaseCommand

from dispatcher_site.tokens import token_issue

DEMO_ROLES = ["general", "oda workflow developer", "unige-hpc-full", "job manager", "refresh-tokens"]
STOP_GRACE_S = 20
WORKER_NICENESS = 10
ACCESS_LOG_FORMAT = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'


class Command(BaseCommand):
    help = "Run gunicorn, a django-q2 cluster and the Matrix bot until Ctrl-C or SIGTERM."

    def handle(self, *args, **options) -> None:
        self._print_welcome()
        children = [subprocess.Popen(argv, preexec_fn=_niceness(argv)) for argv in self._programs()]
        stopping = False

        def request_stop(signum, frame) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        while not stopping and all(child.poll() is None for child in children):
            time.sleep(0.2)
        failed = not stopping
        _stop_all(children)
        if failed:
            self.stderr.write("A service process exited on its own; stopped the others.")
            sys.exit(1)

    def _programs(self) -> list[list[str]]:
        manage = str(Path(settings.BASE_DIR) / "manage.py")
        # gunicorn's asyncio worker reads each request whole; Django runs in DISPATCHER_WEB_THREADS
        # threads per worker (dispatcher_site.web): slow clients hold no thread.
        gunicorn = [sys.executable, "-m", "gunicorn", "dispatcher_site.web:application", "--worker-class", "asgi"]
        gunicorn += ["--bind", settings.BIND, "--workers", str(settings.WEB_WORKERS)]
        gunicorn += ["--graceful-timeout", "10", "--chdir", str(settings.BASE_DIR)]
        if settings.ACCESS_LOG:
            # Path without the query string: tokens travel in it and must never be logged.
            gunicorn += ["--access-logfile", "-", "--access-logformat", ACCESS_LOG_FORMAT]
        programs = [gunicorn, [sys.executable, manage, "qcluster"]]
        if settings.MATRIX_HOMESERVER and "matrix_bot" in get_commands():
            programs.append([sys.executable, manage, "matrix_bot"])
        elif not settings.MATRIX_HOMESERVER:
            self.stdout.write("Matrix is not configured (DISPATCHER_MATRIX_HOMESERVER): no Matrix bot.")
        return programs

    def _print_welcome(self) -> None:
        token = token_issue(email="demo@localhost", roles=DEMO_ROLES, hours=24 * 7)
        self.stdout.write(
            f"Dispatcher on http://{settings.BIND}/ (health: http://{settings.BIND}/healthz)\n"
            f"Demo token (7 days, all roles):\n  export ODA_TOKEN={token}\n"
            f'Try: python -c "from oda_api.api import DispatcherAPI; '
            f"print(DispatcherAPI(url='http://{settings.BIND}').get_instruments_list())\"\n",
        )
        self.stdout.flush()


def _niceness(argv: list[str]):
    """Background workers yield the CPU to the web server on a shared machine.

    Under a burst of requests the queue grows and drains once the burst is over,
    instead of every user's request waiting behind backend bookkeeping.
    """
    if "qcluster" not in argv:
        return None
    return lambda: os.nice(WORKER_NICENESS)


def _stop_all(children: list[subprocess.Popen]) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_S
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
