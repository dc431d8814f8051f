"""Helpers of the notification end-to-end tests: a real SMTP server, the dispatcher's
own processes (django-q2 cluster, Matrix bot) on the test database, and waiting."""

from __future__ import annotations

import email
import email.policy
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from django.db import connections

from jobs.models import Job, JobEvent
from jobs.services import job_get_or_create, job_move
from jobs.signals import job_event_recorded
from tests.live import service_environment

ROOT = Path(__file__).resolve().parents[2]
ALICE_EMAIL = "alice@example.org"


def wait_for(check: Callable[[], Any], what: str, *, timeout: float = 40.0, logs: Callable[[], str] | None = None):
    """The first truthy value of ``check``, polled until ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}" + (f"\n{logs()}" if logs else ""))


class Mailbox:
    """An aiosmtpd handler keeping every mail it is given."""

    def __init__(self):
        self.mails: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.mails.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def about(self, job: Job) -> list[tuple[list[str], EmailMessage]]:
        return [(rcpt, mail) for rcpt, mail in self.mails if job.job_id[:8] in mail["Subject"]]


def smtp_server(port: int) -> tuple[Controller, Mailbox]:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, mailbox


class DispatcherProcesses:
    """``manage.py qcluster`` and ``manage.py matrix_bot`` running against the test database."""

    def __init__(self, *, logdir: Path, environment: dict[str, str]):
        self.logdir = logdir
        self.environment = environment
        self.processes: dict[str, subprocess.Popen] = {}

    def start(self, name: str, *args: str) -> None:
        # The children open their own connections; ours must not be shared or held mid-transaction.
        connections.close_all()
        log = (self.logdir / f"{name}.log").open("a")
        self.processes[name] = subprocess.Popen(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self, name: str) -> int | None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return None if process is None else process.returncode
        # The main process only: a qcluster whose workers all get SIGTERM at once
        # hangs in its shutdown (measured: never stops), while its sentinel alone stops it in <1 s.
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            return process.wait()

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.stop(name)

    def logs(self, chars: int = 4000) -> str:
        return "\n".join(f"--- {path.name}\n{path.read_text()[-chars:]}" for path in sorted(self.logdir.glob("*.log")))


def dispatcher_environment(**extra: str) -> dict[str, str]:
    """The environment of a dispatcher process sharing this test session's database."""
    return service_environment(
        DISPATCHER_PUBLIC_URL="http://dispatcher.test",
        DISPATCHER_QUEUE_WORKERS="1",
        DISPATCHER_NOTIFY_MAX_ATTEMPTS="2",
        DISPATCHER_NOTIFY_RETRY_DELAY_S="0.3",
        DISPATCHER_MATRIX_REQUEST_TIMEOUT_S="5",
        **extra,
    )


def new_job(*, owner: str = ALICE_EMAIL, claims: dict | None = None) -> Job:
    """A job as the protocol view makes it (token claims kept on the job)."""
    job, created = job_get_or_create(
        owner=owner,
        instrument="empty",
        product_type="dummy",
        params={"run": uuid.uuid4().hex},
        claims=claims or {},
    )
    assert created
    return job


def finish(job: Job, status: str = "done", message: str = "") -> Job:
    return job_move(job_id=job.job_id, to=status, message=message)


def repeat_status_event(job: Job) -> JobEvent:
    """The job's status event once more, as a repeated backend report or re-submission records it."""
    job.refresh_from_db()
    event = JobEvent.objects.create(job=job, kind=JobEvent.Kind.STATUS, status=job.status, message="repeated")
    job_event_recorded.send(sender=JobEvent, event=event)
    return event


def notification_events(job: Job) -> list[dict]:
    return [e.data for e in job.events.filter(kind=JobEvent.Kind.NOTIFICATION).order_by("id")]
