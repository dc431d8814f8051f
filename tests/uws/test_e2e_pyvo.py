"""A VO user's view: pyvo (PyPI) drives dispatcher jobs over UWS against the live service
(gunicorn + django-q2 workers): create, run, wait for a terminal phase, fetch results/result."""

from __future__ import annotations

import io
import threading
import time

import pytest
import requests
from pyvo.dal.exceptions import DALQueryError
from pyvo.dal.tap import AsyncTAPJob
from pyvo.io.uws import parse_job_list

from dispatcher_site.tokens import token_issue
from jobs.models import Job

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def session() -> requests.Session:
    """What a VO user hands pyvo: a requests session carrying their token."""
    token = token_issue(email="alice@example.org", roles=["general"])
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return session


def create(live_service, session, **fields) -> AsyncTAPJob:
    response = session.post(f"{live_service.url}/uws/jobs", data=fields, allow_redirects=False, timeout=10)
    assert response.status_code == 303, response.text
    return AsyncTAPJob(response.headers["Location"], session=session, delete=False)


def test_pyvo_creates_runs_waits_and_fetches_the_result(live_service, session):
    job = create(live_service, session, instrument="empty", product_type="echo", src_name="Crab", RUNID="vo-1")
    assert job.uws_version == "1.1"
    assert job.phase == "PENDING"
    assert job.owner == "alice@example.org"
    assert job.job.runid == "vo-1"
    started = time.monotonic()
    job.run().wait(timeout=30)
    assert time.monotonic() - started < 15
    assert job.phase == "COMPLETED"
    job.raise_if_error()
    assert job.result_uri.endswith(f"/uws/jobs/{job.job_id}/results/result")
    result = session.get(job.result_uri, timeout=10)
    assert result.status_code == 200
    assert result.json()["products"]["echo"]["src_name"] == "Crab"
    assert Job.objects.get(job_id=job.job_id).status == "done"


def test_pyvo_sees_an_abort_and_a_delete(live_service, session):
    job = create(live_service, session, instrument="empty", product_type="dummy", query_type="Dummy")
    job.abort()
    assert job.phase == "ABORTED"
    with pytest.raises(DALQueryError, match="Aborted on request"):
        job.raise_if_error()
    listing = session.get(f"{live_service.url}/uws/jobs", timeout=10)
    assert job.job_id in [ref.jobid for ref in parse_job_list(io.BytesIO(listing.content))]
    job.delete()
    listing = session.get(f"{live_service.url}/uws/jobs", timeout=10)
    assert job.job_id not in [ref.jobid for ref in parse_job_list(io.BytesIO(listing.content))]
    assert Job.objects.get(job_id=job.job_id).archived_at is not None


def test_a_failing_product_ends_in_error(live_service, session):
    job = create(live_service, session, instrument="empty", product_type="failing", PHASE="RUN")
    job.wait(timeout=30)
    assert job.phase == "ERROR"
    with pytest.raises(DALQueryError, match="always fails"):
        job.raise_if_error()


def test_blocked_waits_leave_the_service_responsive(live_service, session):
    # More waiters than the service lets block: the extra ones are answered at once,
    # and other requests are still served while the rest wait.
    job = create(live_service, session, instrument="empty", product_type="echo", src_name="waiting")
    url = f"{job.url}?WAIT=4"
    durations: list[float] = []

    def wait_once():
        started = time.monotonic()
        assert session.get(url, timeout=20).status_code == 200
        durations.append(time.monotonic() - started)

    waiters = [threading.Thread(target=wait_once) for _ in range(4)]
    for waiter in waiters:
        waiter.start()
    time.sleep(0.5)
    started = time.monotonic()
    assert requests.get(f"{live_service.url}/healthz", timeout=10).status_code == 200
    assert time.monotonic() - started < 1.5
    for waiter in waiters:
        waiter.join()
    blocked = [d for d in durations if d >= 3.5]
    assert len(durations) == 4
    assert 1 <= len(blocked) <= 2, durations
