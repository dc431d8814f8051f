"""The distributed recipe of the README under a fault: two web processes and two worker
clusters on a PostgreSQL and a redis-server of this module's own, sharing one data
directory; one worker cluster is killed with SIGKILL in the middle of 50 jobs.
Every job must end done, and none done twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import pytest
import requests

from tests.conftest import free_port
from tests.faults import private_postgres_fixture, private_redis_fixture  # noqa: F401 - fixtures
from tests.live import ROOT, wait_healthy

pytestmark = pytest.mark.e2e

JOBS = 50


class Deployment:
    """The processes of the recipe, each in its own process group (a SIGKILL takes a whole cluster)."""

    def __init__(self, directory: Path, database_url: str, redis_url: str):
        self.directory = directory
        self.environment = {k: v for k, v in os.environ.items() if not k.startswith("DISPATCHER_")}
        self.environment.pop("DJANGO_SETTINGS_MODULE", None)
        self.environment.update(
            DISPATCHER_DATA_DIR=str(directory / "shared"),
            DISPATCHER_DATABASE_URL=database_url,
            DISPATCHER_REDIS_URL=redis_url,
            DISPATCHER_QUEUE_NAME=f"distributed-{uuid.uuid4().hex[:8]}",
            DISPATCHER_QUEUE_WORKERS="2",
            DISPATCHER_RUN_LEASE_S="6",
            DISPATCHER_REQUEUE_AFTER_S="5",
            PYTHONUNBUFFERED="1",
        )
        self.processes: dict[str, subprocess.Popen] = {}

    def manage(self, *arguments: str) -> None:
        subprocess.run([sys.executable, "manage.py", *arguments], cwd=ROOT, env=self.environment, check=True)

    def start(self, name: str, argv: list[str], **extra: str) -> subprocess.Popen:
        log = (self.directory / f"{name}.log").open("w")
        self.processes[name] = subprocess.Popen(
            argv,
            cwd=ROOT,
            env={**self.environment, **extra},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self.processes[name]

    def web(self, name: str, port: int) -> str:
        argv = [sys.executable, "-m", "gunicorn", "dispatcher_site.wsgi", "--bind", f"127.0.0.1:{port}"]
        process = self.start(name, [*argv, "--workers", "1", "--threads", "4"])
        url = f"http://127.0.0.1:{port}"
        wait_healthy(f"{url}/healthz", process, lambda: self.log(name), timeout_s=90)
        return url

    def workers(self, name: str) -> subprocess.Popen:
        return self.start(name, [sys.executable, "manage.py", "qcluster"])

    def kill(self, name: str) -> None:
        os.killpg(self.processes[name].pid, signal.SIGKILL)
        self.processes[name].wait()

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def log(self, name: str, chars: int = 3000) -> str:
        return (self.directory / f"{name}.log").read_text()[-chars:]


@pytest.fixture
def deployment(tmp_path, private_postgres, private_redis):
    recipe = Deployment(tmp_path, private_postgres.url, private_redis.url)
    recipe.manage("migrate", "--noinput", "-v0")
    try:
        yield recipe
    finally:
        recipe.stop()


def job_states(database_url: str) -> tuple[dict[str, str], dict[str, int]]:
    """Each job's status, and how many times each was recorded done."""
    with psycopg.connect(database_url.replace("postgres://", "postgresql://")) as connection:
        statuses = dict(connection.execute("SELECT job_id, status FROM jobs_job").fetchall())
        done = connection.execute(
            "SELECT j.job_id, count(e.id) FROM jobs_job j LEFT JOIN jobs_jobevent e "
            "ON e.job_id = j.id AND e.kind = 'status' AND e.status = 'done' GROUP BY j.job_id"
        ).fetchall()
    return statuses, dict(done)


def test_a_worker_cluster_killed_in_the_middle_of_fifty_jobs_loses_none(deployment, private_postgres):
    webs = [deployment.web("web-a", free_port()), deployment.web("web-b", free_port())]
    deployment.workers("workers-a")
    asked = {"instrument": "empty-semi-async", "product_type": "dummy", "query_type": "Real"}
    job_ids = []
    for n in range(JOBS):
        answer = requests.post(f"{webs[n % 2]}/run_analysis", data={**asked, "p": str(3 + n / 1000)}, timeout=30)
        assert answer.status_code == 200, answer.text[:300]
        job_ids.append(answer.json()["job_monitor"]["job_id"])

    def running() -> int:
        statuses, _ = job_states(private_postgres.url)
        return sum(status == "progress" for status in statuses.values())

    deadline = time.monotonic() + 60
    while running() < 10 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert running() >= 10, deployment.log("workers-a")
    # Cluster A is busy with a backlog: its workers have tasks in hand and more fetched
    # from Redis. Cluster B joins, and A is killed with all of them.
    deployment.workers("workers-b")
    deployment.kill("workers-a")

    deadline = time.monotonic() + 150
    while time.monotonic() < deadline:
        statuses, done = job_states(private_postgres.url)
        if all(statuses.get(job_id) == "done" for job_id in job_ids):
            break
        time.sleep(1)
    statuses, done = job_states(private_postgres.url)
    unfinished = {job_id[:8]: statuses.get(job_id) for job_id in job_ids if statuses.get(job_id) != "done"}
    assert not unfinished, f"{unfinished}\n{deployment.log('workers-b')}"
    assert {done[job_id] for job_id in job_ids} == {1}, "each job done exactly once"
    picked_up = "jobs called again" in deployment.log("workers-b", chars=10**6)
    assert picked_up, "the killed cluster's work was picked up again"
