"""Start the real service (``manage.py serve``: gunicorn + django-q2 cluster) against
the test database, for end-to-end tests that drive it over HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import requests
from django.conf import settings
from django.db import connection, connections

ROOT = Path(__file__).resolve().parent.parent


def wait_healthy(
    url: str, process: subprocess.Popen, log_tail: Callable[[], str], *, timeout_s: float
) -> requests.Response:
    """The first 200 answer of a freshly started service at ``url``.

    Refused connections and slow answers both mean workers still booting (the first
    request imports what it uses). RuntimeError, with the log's tail, when the
    process exits or ``timeout_s`` passes.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the service exited with {process.returncode}:\n{log_tail()}")
        try:
            response = requests.get(url, timeout=2)
            if response.status_code == 200:
                return response
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.25)
    raise RuntimeError(f"no healthy answer from {url}:\n{log_tail()}")


def test_database_url() -> str:
    """The URL of the database pytest-django created, for processes outside pytest."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def service_environment(**extra: str) -> dict[str, str]:
    """The environment of a dispatcher process sharing this test session's database,
    broker and queue (tests/settings.py names a queue per session, so tasks left by
    another run are never picked up)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DISPATCHER_")}
    environment.update(
        DJANGO_SETTINGS_MODULE="dispatcher_site.settings",
        DISPATCHER_DATA_DIR=str(settings.DATA_DIR),
        DISPATCHER_SECRET_KEY=settings.SECRET_KEY,
        DISPATCHER_TOKEN_SECRET=settings.TOKEN_SECRET,
        DISPATCHER_DATABASE_URL=test_database_url(),
        DISPATCHER_QUEUE_NAME=settings.Q_CLUSTER["name"],
        DISPATCHER_QUEUE_SAVE_LIMIT="0",
        PYTHONUNBUFFERED="1",
    )
    if settings.REDIS_URL:
        environment["DISPATCHER_REDIS_URL"] = settings.REDIS_URL
    environment.update(extra)
    return environment


class LiveService:
    def __init__(self, port: int, log_path: Path, extra_env: dict[str, str] | None = None):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self.extra_env = extra_env or {}
        self.process: subprocess.Popen | None = None

    def environment(self) -> dict[str, str]:
        return service_environment(
            DISPATCHER_BIND=f"127.0.0.1:{self.port}",
            DISPATCHER_PUBLIC_URL=self.url,
            # Its own queue: the session-long service must not run the tasks that
            # other tests queue for themselves.
            DISPATCHER_QUEUE_NAME=f"{settings.Q_CLUSTER['name']}-live",
            **self.extra_env,
        )

    def start(self) -> LiveService:
        # A forked worker must not inherit our open database connection.
        connections.close_all()
        log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "serve"],
            cwd=ROOT,
            env=self.environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()  # never leave a half-started service holding the test database
            raise
        return self

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        # `serve` stops its children one by one; signalling the whole group at once
        # leaves django-q2's workers waiting on each other.
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text()[-chars:]

    def _wait_healthy(self) -> None:
        wait_healthy(f"{self.url}/healthz", self.process, self.log_tail, timeout_s=90)
