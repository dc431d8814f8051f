"""Structured logs: one line per request and per job transition, with the job id, and nothing secret."""

from __future__ import annotations

import logging

import pytest

from jobs.services import job_move
from jobs.states import Status

pytestmark = pytest.mark.django_db


def request_lines(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "dispatcher.requests"]


def test_one_line_per_request_with_the_job_id_and_no_query_string(client, caplog, make_job, alice):
    job = make_job()
    with caplog.at_level(logging.INFO, logger="dispatcher.requests"):
        client.get("/run_analysis", {"job_id": job.job_id, "query_status": "submitted", "token": alice})
    (record,) = request_lines(caplog)
    line = record.getMessage()
    assert line.startswith("request method=GET path=/run_analysis status=200 duration_ms=")
    assert line.endswith(f"job_id={job.job_id}")
    assert alice not in line and "token" not in line
    assert record.request_fields["status"] == 200


def test_the_job_page_logs_its_job_id_but_not_the_link(client, caplog, make_job):
    from jobs.signing import job_link_sign

    job = make_job()
    link = job_link_sign(job.job_id)
    with caplog.at_level(logging.INFO, logger="dispatcher.requests"):
        client.get(f"/jobs/{job.job_id}/", {"link_token": link})
    (record,) = request_lines(caplog)
    assert f"path=/jobs/{job.job_id}/ status=200" in record.getMessage()
    assert f"job_id={job.job_id}" in record.getMessage()
    assert link not in record.getMessage()


def test_a_failing_request_is_logged_with_its_status(client, caplog):
    with caplog.at_level(logging.INFO, logger="dispatcher.requests"):
        client.get("/api/v1/jobs/", HTTP_AUTHORIZATION="Bearer not-a-jwt")
    (record,) = request_lines(caplog)
    assert "status=400" in record.getMessage()
    assert "not-a-jwt" not in record.getMessage()


def test_each_transition_is_one_line(caplog, make_job):
    job = make_job(status=Status.SUBMITTED)
    with caplog.at_level(logging.INFO, logger="jobs.services"):
        job_move(job_id=job.job_id, to=Status.PROGRESS)
        job_move(job_id=job.job_id, to=Status.PROGRESS)  # a restatement is no transition
        job_move(job_id=job.job_id, to=Status.DONE)
    lines = [r.getMessage() for r in caplog.records if r.name == "jobs.services"]
    assert lines == [
        f"job transition job_id={job.job_id} from=submitted to=progress",
        f"job transition job_id={job.job_id} from=progress to=done",
    ]
