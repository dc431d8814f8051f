import pytest

from jobs.errors import IllegalTransition, JobNotFound
from jobs.models import JobEvent
from jobs.services import job_get_or_create, job_move
from jobs.services.records import job_report_progress
from jobs.states import Status

pytestmark = pytest.mark.django_db


def make_job(**params):
    job, _ = job_get_or_create(
        owner="alice@example.org", instrument="empty", product_type="dummy", params=params or {"p": 1}
    )
    return job


def test_it_moves_forward_and_stamps_times():
    job = make_job()
    assert job.status == Status.SUBMITTED
    job = job_move(job_id=job.job_id, to=Status.PROGRESS)
    assert job.started_at is not None
    job = job_move(job_id=job.job_id, to=Status.DONE)
    assert job.finished_at is not None
    assert job.duration_s is not None and job.duration_s >= 0
    statuses = list(job.events.filter(kind=JobEvent.Kind.STATUS).values_list("status", flat=True))
    assert statuses == ["submitted", "progress", "done"]


@pytest.mark.parametrize("terminal", [Status.DONE, Status.FAILED, Status.ABORTED])
@pytest.mark.parametrize("target", [Status.SUBMITTED, Status.PROGRESS, Status.DONE, Status.FAILED, Status.ABORTED])
def test_it_refuses_any_move_out_of_a_terminal_state(terminal, target):
    job = make_job()
    job_move(job_id=job.job_id, to=terminal, message="over")
    with pytest.raises(IllegalTransition) as caught:
        job_move(job_id=job.job_id, to=target)
    assert f"is {terminal}; it cannot move to {target}" in str(caught.value)
    job.refresh_from_db()
    assert job.status == terminal


def test_it_refuses_to_go_back_to_submitted():
    job = make_job()
    job_move(job_id=job.job_id, to=Status.PROGRESS)
    with pytest.raises(IllegalTransition):
        job_move(job_id=job.job_id, to=Status.SUBMITTED)


def test_restating_progress_records_nothing():
    job = make_job()
    job_move(job_id=job.job_id, to=Status.PROGRESS)
    before = job.events.count()
    job_move(job_id=job.job_id, to=Status.PROGRESS)
    assert job.events.count() == before


def test_failure_keeps_the_reason():
    job = make_job()
    job = job_move(job_id=job.job_id, to=Status.FAILED, message="backend said no")
    assert job.message == "backend said no"


def test_unknown_job_is_a_clear_error():
    with pytest.raises(JobNotFound, match="No job with id 'nope'"):
        job_move(job_id="nope", to=Status.DONE)


def test_a_repeated_progress_report_is_stored_once():
    job = make_job()
    first = job_report_progress(job_id=job.job_id, message="step 1", dedup_key="k1")
    again = job_report_progress(job_id=job.job_id, message="step 1", dedup_key="k1")
    assert first is not None and again is None
    assert job.events.filter(kind=JobEvent.Kind.PROGRESS).count() == 1
    job.refresh_from_db()
    assert job.status == Status.PROGRESS


def test_same_request_same_job_other_user_other_job():
    first, created = job_get_or_create(owner="a@x", instrument="empty", product_type="dummy", params={"x": 1})
    again, created_again = job_get_or_create(owner="a@x", instrument="empty", product_type="dummy", params={"x": 1})
    other, _ = job_get_or_create(owner="b@x", instrument="empty", product_type="dummy", params={"x": 1})
    assert created and not created_again
    assert first.pk == again.pk
    assert other.job_id != first.job_id


def test_anagram_parameters_give_different_jobs():
    # The old dispatcher's hash sorted characters and collided on these.
    one, _ = job_get_or_create(owner="", instrument="empty", product_type="echo", params={"src": "ab"})
    two, _ = job_get_or_create(owner="", instrument="empty", product_type="echo", params={"src": "ba"})
    assert one.job_id != two.job_id
