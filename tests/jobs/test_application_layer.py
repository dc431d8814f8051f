"""The application layer's promises: the two clocks of a job, the cached answers, one error through every interface."""

from __future__ import annotations

import html
import uuid
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from instruments.base import Products
from instruments.registry import instrument_get
from jobs.models import Job, JobEvent
from jobs.services import (
    job_callback,
    job_finish,
    job_get_or_create,
    job_move,
    job_record_notification,
    jobs_fail_stale,
)
from jobs.signing import job_page_path
from jobs.states import Status
from tests.conftest import ALICE

pytestmark = pytest.mark.django_db

EMAIL_SENT = {"channel": "email", "status_text": "email sent", "recipient": ALICE}


@pytest.fixture(autouse=True)
def _products_apart(settings, tmp_path):
    settings.PRODUCTS_DIR = tmp_path / "products"


def running_job() -> Job:
    # A job id of its own: finished answers are cached per process by job id and version.
    job, _ = job_get_or_create(owner=ALICE, instrument="empty", product_type="echo", params={"case": uuid.uuid4().hex})
    return job_move(job_id=job.job_id, to=Status.PROGRESS, message="backend started")


def finished_job() -> Job:
    job = running_job()
    return job_finish(job_id=job.job_id, products=Products(files={"result.txt": b"42\n"}, comment="all good"))


def last_heard(job: Job, *, seconds_ago: float) -> datetime:
    """Put the job's stale clock back, as if its backend had last reported ``seconds_ago``."""
    when = timezone.now() - timedelta(seconds=seconds_ago)
    Job.objects.filter(pk=job.pk).update(last_report_at=when, task_due_at=None)  # its run was taken up
    return when


class TestTheTwoClocks:
    def test_a_notification_outcome_bumps_the_answer_but_not_the_stale_clock(self):
        job = running_job()
        heard = last_heard(job, seconds_ago=600)
        version = Job.objects.get(pk=job.pk).answer_version

        job_record_notification(job_id=job.job_id, message="email sent to alice", data=EMAIL_SENT)

        job.refresh_from_db()
        assert job.last_report_at == heard
        assert job.answer_version == version + 1
        assert job.status == Status.PROGRESS
        notice = job.events.get(kind=JobEvent.Kind.NOTIFICATION)
        assert (notice.message, notice.data) == ("email sent to alice", EMAIL_SENT)

    def test_a_progress_report_moves_the_stale_clock(self):
        job = running_job()
        last_heard(job, seconds_ago=600)
        before = timezone.now()

        assert job_callback(job_id=job.job_id, report={"action": "progress", "message": "halfway"}) is True

        job.refresh_from_db()
        assert before <= job.last_report_at <= timezone.now()

    def test_the_sweep_fails_a_job_whose_only_recent_news_is_a_notification(self):
        silence = instrument_get("empty").timeout_s + 60
        notified = running_job()
        last_heard(notified, seconds_ago=silence)
        job_record_notification(job_id=notified.job_id, message="email sent to alice", data=EMAIL_SENT)
        # The same silence, then a report from the backend: that one is alive.
        reporting = running_job()
        last_heard(reporting, seconds_ago=silence)
        job_callback(job_id=reporting.job_id, report={"action": "progress", "message": "still at it"})

        assert jobs_fail_stale() == [notified.job_id]

        notified.refresh_from_db()
        reporting.refresh_from_db()
        assert notified.status == Status.FAILED
        assert "silent for too long" in notified.message
        assert reporting.status == Status.PROGRESS


def test_a_finished_answer_shows_notices_recorded_after_it_was_first_given(client, alice):
    job = finished_job()
    asked = {"job_id": job.job_id, "query_status": "done", "token": alice}
    first = client.get("/run_analysis", asked).json()
    assert first["query_status"] == "done"
    assert "email_status" not in first["exit_status"]
    assert client.get("/run_analysis", asked).json()["exit_status"] == first["exit_status"]  # served again, cached

    job_record_notification(job_id=job.job_id, message="email sent to alice", data=EMAIL_SENT)
    after_email = client.get("/run_analysis", asked).json()
    job_record_notification(
        job_id=job.job_id, message="posted", data={"channel": "matrix", "status_text": "matrix message sent"}
    )
    after_matrix = client.get("/run_analysis", asked).json()

    assert after_email["exit_status"] == {**first["exit_status"], "email_status": "email sent"}
    assert after_matrix["exit_status"] == {
        **first["exit_status"],
        "email_status": "email sent",
        "matrix_message_status": "matrix message sent",
    }
    assert after_matrix["products"] == first["products"]


class TestOneErrorThroughEveryInterface:
    """The same ServiceError leaves every interface with the same status and the same message."""

    def _answers(self, client, job_id: str, token: str) -> dict[str, tuple[int, str]]:
        bearer = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        oda = client.get("/run_analysis", {"job_id": job_id, "query_status": "done", "token": token})
        rest = client.get(f"/api/v1/jobs/{job_id}/", **bearer)
        uws = client.get(f"/uws/jobs/{job_id}", **bearer)
        page = client.get(job_page_path(job_id), **bearer)
        assert oda["Content-Type"] == rest["Content-Type"] == "application/json"
        assert uws["Content-Type"] == "text/plain; charset=utf-8"
        assert page["Content-Type"] == "text/html; charset=utf-8"
        assert oda.json()["error"] == oda.json()["error_message"] == oda.json()["exit_status"]["message"]
        assert oda.json()["error_code"] == rest.json()["error_code"]
        refused = page.context["message"]
        assert f'<p id="refused" data-status="{page.status_code}">{html.escape(refused)}</p>' in page.content.decode()
        return {
            "oda": (oda.status_code, oda.json()["error"]),
            "rest": (rest.status_code, rest.json()["error"]),
            "uws": (uws.status_code, uws.content.decode()),
            "page": (page.status_code, refused),
        }

    def test_an_unknown_job(self, client, alice):
        unknown = "0" * 64
        answers = self._answers(client, unknown, alice)
        expected = (404, f"No job with id {unknown!r}.")
        assert answers == {"oda": expected, "rest": expected, "uws": expected, "page": expected}
        oda = client.get("/run_analysis", {"job_id": unknown, "query_status": "done", "token": alice}).json()
        assert oda["error_code"] == "job_not_found"

    def test_someone_elses_job(self, client, charlie):
        job = finished_job()
        answers = self._answers(client, job.job_id, charlie)
        expected = (403, "You are not allowed to access this job.")
        assert answers == {"oda": expected, "rest": expected, "uws": expected, "page": expected}


class TestAPurgedJobAskedForAgain:
    def test_its_new_life_is_answered_not_the_cached_old_one(self, client, alice):
        from jobs.services import job_fail, jobs_remove

        params = {"case": uuid.uuid4().hex}
        first, _ = job_get_or_create(owner=ALICE, instrument="empty", product_type="echo", params=params)
        job_fail(job_id=first.job_id, message="first life failed")
        asked = {"job_id": first.job_id, "query_status": "failed", "token": alice}
        assert client.get("/run_analysis", asked).json()["query_status"] == "failed"
        first_version = Job.objects.get(job_id=first.job_id).answer_version
        jobs_remove(job_ids=[first.job_id])

        again, created = job_get_or_create(owner=ALICE, instrument="empty", product_type="echo", params=params)
        job_finish(job_id=again.job_id, products=Products(comment="second life"))
        # Same job id, same answer version: only the row tells the two lives apart.
        assert created and again.job_id == first.job_id
        assert Job.objects.get(job_id=again.job_id).answer_version == first_version

        answer = client.get("/run_analysis", asked).json()
        assert (answer["query_status"], answer["exit_status"]["message"]) == ("done", "")
