"""Run the whole service on one machine: web server, task workers and (when
configured) the Matrix bot, stopping them all together.

``serve --only web`` runs the web server alone, exactly as ``serve`` starts it (the
Procfile and the systemd units use it); the workers are ``qcluster`` and the bot
``matrix_bot``, the commands ``serve`` starts.
"""

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

from dispatcher_site.demo import demo_welcome

STOP_GRACE_S = 20
WORKER_NICENESS = 10
ACCESS_LOG_FORMAT = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'


class Command(BaseCommand):
    help = "Run gunicorn, a django-q2 cluster and the Matrix bot until Ctrl-C or SIGTERM."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--only", choices=("web",), help="run the web server alone, in this process (for Procfiles and units)"
        )

    def handle(self, *args, only: str | None = None, **options) -> None:
        if only == "web":
            argv = web_command()
            os.execv(argv[0], argv)  # noqa: S606 -- our own argv; signals then reach gunicorn itself
        self.stdout.write(demo_welcome())
        self.stdout.flush()
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
        programs = [web_command(), [*management_command(), "qcluster"]]
        if settings.MATRIX_HOMESERVER and "matrix_bot" in get_commands():
            programs.append([*management_command(), "matrix_bot"])
        elif not settings.MATRIX_HOMESERVER:
            self.stdout.write("Matrix is not configured (DISPATCHER_MATRIX_HOMESERVER): no Matrix bot.")
        return programs


def web_command() -> list[str]:
    """gunicorn as the service runs it: its asyncio worker reads each request whole; Django runs in
    DISPATCHER_WEB_THREADS threads per worker (dispatcher_site.web): slow clients hold no thread."""
    gunicorn = [sys.executable, "-m", "gunicorn", "dispatcher_site.web:application", "--worker-class", "asgi"]
    gunicorn += ["--bind", settings.BIND, "--workers", str(settings.WEB_WORKERS), "--graceful-timeout", "10"]
    # Its own lines in the service's format and redacted (DISPATCHER_LOG_FORMAT).
    gunicorn += ["--logger-class", "dispatcher_site.redaction.ServiceGunicornLogger"]
    # X-Forwarded-* believed from these proxies only (DISPATCHER_FORWARDED_ALLOW_IPS).
    gunicorn += ["--forwarded-allow-ips", settings.FORWARDED_ALLOW_IPS]
    if settings.PROJECT_DIR == settings.BASE_DIR:
        gunicorn += ["--chdir", str(settings.BASE_DIR)]
    if settings.ACCESS_LOG:
        # Path without the query string: tokens travel in it and must never be logged.
        gunicorn += ["--access-logfile", "-", "--access-logformat", ACCESS_LOG_FORMAT]
    return gunicorn


def management_command() -> list[str]:
    """This project's manage.py in a checkout, the installed package's entry otherwise."""
    manage = Path(settings.BASE_DIR) / "manage.py"
    if manage.is_file():
        return [sys.executable, str(manage)]
    return [sys.executable, "-m", "dispatcher_site"]


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
