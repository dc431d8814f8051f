"""Faults of the task queue injected into the live service (gunicorn + a django-q2
cluster with its task timer), on a redis-server of this module's own:

- Redis stopped while jobs are submitted, then started again empty: every answer
  is the job accepted (or a JSON 503), never a 500; no job is lost or run twice;
  the real oda-api client waiting through the outage gets its product.
- A backlog (one worker, a hundred polling jobs at once) drains without a job
  failed for waiting in the queue, and without a worker sleeping between polls.
"""

from __future__ import annotations

import threading
import time

import pytest
import requests
from django.db.models import Count, Q
from oda_api.api import DispatcherAPI

from jobs.models import Job, JobEvent
from jobs.services import jobs_fail_stale
from jobs.services import running as running_services
from jobs.states import Status
from tests.conftest import free_port
from tests.faults import private_redis_fixture  # noqa: F401 - the fixture private_redis
from tests.live import LiveService

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SEMI_ASYNC = {"instrument": "empty-semi-async", "product_type": "dummy", "query_type": "Real"}


@pytest.fixture(scope="module")
def service(django_db_setup, django_db_blocker, tmp_path_factory, private_redis):
    extra = {
        "DISPATCHER_REDIS_URL": private_redis.url,
        "DISPATCHER_QUEUE_WORKERS": "1",  # a backlog forms at once
        "DISPATCHER_REQUEUE_AFTER_S": "5",
    }
    with django_db_blocker.unblock():
        live = LiveService(free_port(), tmp_path_factory.mktemp("queue-faults") / "service.log", extra)
        live.start()
    yield live
    live.stop()


def submit(service: LiveService, p: float) -> requests.Response:
    return requests.post(f"{service.url}/run_analysis", data={**SEMI_ASYNC, "p": str(p)}, timeout=30)


def wait_until(condition, *, timeout_s: float, every_s: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every_s)
    return condition()


def done_events_per_job(job_ids) -> dict[str, int]:
    counted = (
        Job.objects.filter(job_id__in=job_ids)
        .annotate(done=Count("events", filter=Q(events__kind=JobEvent.Kind.STATUS, events__status=Status.DONE)))
        .values_list("job_id", "done")
    )
    return dict(counted)


def all_done(job_ids) -> bool:
    return Job.objects.filter(job_id__in=job_ids, status=Status.DONE).count() == len(job_ids)


def test_a_broker_outage_loses_no_accepted_job(service, private_redis):
    before = [submit(service, 0.5 + n / 100).json()["job_monitor"]["job_id"] for n in range(3)]
    assert wait_until(lambda: all_done(before), timeout_s=60), service.log_tail()

    private_redis.stop()
    answers = [submit(service, 1 + n / 100) for n in range(10)]
    api = DispatcherAPI(url=service.url, wait=True)
    api.retry_sleep_s = 1
    waited: dict[str, object] = {}
    asked = {"instrument": "empty-semi-async", "product": "dummy", "p": 1.5, "product_type": "Real"}
    client = threading.Thread(target=lambda: waited.update(data=api.get_product(**asked, silent=True)), daemon=True)
    client.start()
    health = requests.get(f"{service.url}/healthz", timeout=5)
    time.sleep(3)
    private_redis.start()  # back, and empty: whatever it held is gone

    assert health.status_code == 503 and health.json()["broker"]["state"] != "ok"
    for answer in answers:
        assert answer.status_code in (200, 503), answer.text[:300]
        assert answer.headers["Content-Type"] == "application/json", answer.text[:300]
    accepted = [a.json()["job_monitor"]["job_id"] for a in answers if a.status_code == 200]
    assert len(accepted) == len(answers), "a queue outage alone leaves the database to accept every job"
    assert all(a.json()["query_status"] == "submitted" for a in answers)
    assert wait_until(lambda: all_done(accepted), timeout_s=90), service.log_tail()
    client.join(timeout=90)
    assert "data" in waited, "oda-api got its product through the outage"
    done = done_events_per_job([*before, *accepted])
    assert set(done.values()) == {1}, f"each job done exactly once: {done}"


def test_a_backlog_drains_without_failing_a_job_for_waiting(service, monkeypatch):
    # The sweep, as strict as it can be: a backend silent for 3 s is silent for too long.
    monkeypatch.setattr(running_services, "_silence_limit_s", lambda instrument: 3.0)
    started = time.monotonic()
    answers = [submit(service, 2 + n / 1000) for n in range(100)]
    job_ids = [answer.json()["job_monitor"]["job_id"] for answer in answers]

    failed: list[str] = []

    def drained() -> bool:
        failed.extend(jobs_fail_stale())
        return all_done(job_ids)

    assert wait_until(drained, timeout_s=120), service.log_tail()
    elapsed = time.monotonic() - started
    assert failed == []
    assert not Job.objects.filter(job_id__in=job_ids).exclude(status=Status.DONE).exists()
    # Each job is polled about twice, a second apart: a worker sleeping through each
    # wait would need minutes for a hundred jobs with one worker.
    assert elapsed < 60, f"the backlog took {elapsed:.0f} s to drain"
