"""/phase: RUN starts a pending job, ABORT aborts; everything answers 303 to the job."""

from __future__ import annotations

import pytest
from django.conf import settings

from jobs.models import Job
from jobs.services import job_move
from jobs.states import Status
from tests.uws.conftest import NS, phase_of

pytestmark = pytest.mark.django_db(transaction=True)


def test_get_phase_is_plain_text(as_alice):
    job_id = as_alice.create()
    response = as_alice.get(f"/{job_id}/phase")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response.content == b"PENDING"


def test_run_starts_the_job_and_redirects_to_it(as_alice, tasks_inline, valid_xml):
    job_id = as_alice.create(product_type="dummy", query_type="Dummy")
    response = as_alice.post(f"/{job_id}/phase", PHASE="RUN")
    assert response.status_code == 303
    assert response["Location"] == f"{settings.PUBLIC_URL}/uws/jobs/{job_id}"
    root = valid_xml(as_alice.get(f"/{job_id}"))
    assert phase_of(root) == "COMPLETED"
    assert root.find("uws:startTime", NS).text and root.find("uws:endTime", NS).text


def test_run_without_workers_leaves_it_queued(as_alice):
    job_id = as_alice.create()
    as_alice.post(f"/{job_id}/phase", PHASE="RUN")
    assert as_alice.get(f"/{job_id}/phase").content == b"QUEUED"


def test_run_twice_queues_one_run(as_alice, monkeypatch):
    queued = []
    monkeypatch.setattr("jobs.scheduling.enqueue", lambda func, *args: queued.append((func, args)))
    job_id = as_alice.create()
    for _ in range(2):
        assert as_alice.post(f"/{job_id}/phase", PHASE="RUN").status_code == 303
    assert queued == [("jobs.tasks.job_run_task", (job_id, 1, 1))]


@pytest.mark.parametrize("started", [False, True])
def test_abort_ends_a_pending_or_running_job(as_alice, valid_xml, started):
    job_id = as_alice.create()
    if started:
        as_alice.post(f"/{job_id}/phase", PHASE="RUN")
        job_move(job_id=job_id, to=Status.PROGRESS)
    assert as_alice.post(f"/{job_id}/phase", PHASE="ABORT").status_code == 303
    root = valid_xml(as_alice.get(f"/{job_id}"))
    assert phase_of(root) == "ABORTED"
    assert root.find("uws:errorSummary/uws:message", NS).text == "Aborted on request of alice@example.org."
    assert as_alice.post(f"/{job_id}/phase", PHASE="ABORT").status_code == 303, "aborting twice is harmless"
    assert Job.objects.get(job_id=job_id).status == Status.ABORTED


def test_a_completed_job_cannot_be_aborted(as_alice, tasks_inline):
    job_id = as_alice.create(product_type="dummy", query_type="Dummy", PHASE="RUN")
    response = as_alice.post(f"/{job_id}/phase", PHASE="ABORT")
    assert response.status_code == 409
    assert "done" in response.content.decode()
    assert Job.objects.get(job_id=job_id).status == Status.DONE


@pytest.mark.parametrize("phase", ["", "SUSPEND", "COMPLETED"])
def test_other_phases_are_400(as_alice, phase):
    job_id = as_alice.create()
    response = as_alice.post(f"/{job_id}/phase", PHASE=phase)
    assert response.status_code == 400
    assert "RUN or ABORT" in response.content.decode()
    assert Job.objects.get(job_id=job_id).status == Status.PENDING


@pytest.mark.parametrize("ended", [Status.FAILED, Status.ABORTED])
def test_run_on_an_error_or_aborted_job_starts_its_next_attempt(as_alice, monkeypatch, valid_xml, ended):
    queued = []
    monkeypatch.setattr("jobs.scheduling.enqueue", lambda func, *args: queued.append((func, args)))
    job_id = as_alice.create()
    as_alice.post(f"/{job_id}/phase", PHASE="RUN")
    job_move(job_id=job_id, to=ended, message="the first attempt ended")
    assert as_alice.get(f"/{job_id}/phase").content in (b"ERROR", b"ABORTED")

    assert as_alice.post(f"/{job_id}/phase", PHASE="RUN").status_code == 303

    root = valid_xml(as_alice.get(f"/{job_id}"))
    assert phase_of(root) == "QUEUED"
    assert root.find("uws:errorSummary", NS) is None, "the earlier attempt's error is history, not the job's"
    assert queued[-1] == ("jobs.tasks.job_run_task", (job_id, 2, 1))
    job = Job.objects.get(job_id=job_id)
    assert job.attempt == 2
    assert job.events.filter(attempt=1, status=ended).exists()
