"""What the run task does with each kind of backend answer: fake adapters, the real services."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from dispatcher_site.auth import Caller
from instruments.base import Adapter, AdapterError, Products, RunOutcome
from jobs.models import DelayedTask, Job, JobEvent
from jobs.services import job_get_or_create, job_move, job_submit, submission
from jobs.services import running as execution
from jobs.services.running import MAX_BACKEND_CALLS, job_callback, job_execute, job_finish, jobs_fail_stale
from jobs.states import Status

pytestmark = pytest.mark.django_db


class Scripted(Adapter):
    """An adapter that answers what the test says, or raises it."""

    kind = "scripted"

    def __init__(self, answer):
        super().__init__(name="scripted")
        self.answer = answer
        self.calls = 0

    def run(self, request):
        self.calls += 1
        if isinstance(self.answer, BaseException):
            raise self.answer
        return self.answer


@pytest.fixture
def backend(monkeypatch):
    def use(answer, timeout_s: float = 60.0) -> Scripted:
        adapter = Scripted(answer)
        handle = SimpleNamespace(adapter=adapter, kind="scripted", timeout_s=timeout_s, name="scripted")
        monkeypatch.setattr(execution, "instrument_get", lambda name: handle)
        return adapter

    return use


def a_job(**params) -> Job:
    job, _ = job_get_or_create(owner="alice@example.org", instrument="scripted", product_type="p", params=params)
    return job


def test_a_done_answer_keeps_the_products_and_ends_the_job(backend):
    backend(RunOutcome(state="done", products=Products(text_product_list=[{"name": "t", "value": "v"}])))
    job = a_job()
    job_execute(job_id=job.job_id)
    job.refresh_from_db()
    assert job.status == Status.DONE
    assert job.backend_calls == 1


def test_a_retryable_error_is_tried_again_later_then_fails(backend):
    adapter = backend(AdapterError("The backend is busy.", retryable=True))
    job = a_job()
    job_execute(job_id=job.job_id)
    job.refresh_from_db()
    assert job.status == Status.PROGRESS
    assert job.events.filter(message__startswith="The backend is busy. Trying again in").exists()
    # The retry waits as a delayed task, the next call of the same attempt.
    retry = DelayedTask.objects.get(func="jobs.tasks.job_run_task")
    assert retry.args == [job.job_id, 1, 2]
    for _ in range(MAX_BACKEND_CALLS - 1):
        job_execute(job_id=job.job_id)
    job.refresh_from_db()
    assert job.status == Status.FAILED
    assert job.message == "The backend is busy."
    assert adapter.calls == MAX_BACKEND_CALLS


def test_a_permanent_error_fails_at_once_with_the_backends_message(backend):
    backend(AdapterError("Parameter T1 is after T2.", retryable=False))
    job = a_job()
    job_execute(job_id=job.job_id)
    job.refresh_from_db()
    assert (job.status, job.message) == (Status.FAILED, "Parameter T1 is after T2.")


def test_an_adapter_crash_fails_the_job_instead_of_leaving_it_running(backend):
    backend(ZeroDivisionError("bug"))
    job = a_job()
    job_execute(job_id=job.job_id)
    job.refresh_from_db()
    assert job.status == Status.FAILED
    assert "failed unexpectedly" in job.message


def test_an_instrument_gone_meanwhile_fails_the_job():
    job, _ = job_get_or_create(owner="", instrument="no-longer-here", product_type="p", params={})
    job_execute(job_id=job.job_id)
    job.refresh_from_db()
    assert job.status == Status.FAILED
    assert "no longer available" in job.message


def test_a_task_delivered_twice_does_not_run_a_finished_job_again(backend):
    adapter = backend(RunOutcome(state="done", products=Products()))
    job = a_job()
    job_execute(job_id=job.job_id)
    job_execute(job_id=job.job_id)
    assert adapter.calls == 1


def test_products_arriving_after_an_abort_leave_it_aborted():
    job = a_job()
    job_move(job_id=job.job_id, to=Status.ABORTED, message="stop")
    assert job_finish(job_id=job.job_id, products=Products()) is None
    job.refresh_from_db()
    assert job.status == Status.ABORTED


def test_the_sweep_fails_jobs_whose_backend_went_silent(backend):
    backend(RunOutcome(state="progress"), timeout_s=60)
    silent, fresh = a_job(n=1), a_job(n=2)
    job_move(job_id=silent.job_id, to=Status.PROGRESS)
    job_move(job_id=fresh.job_id, to=Status.PROGRESS)
    # The backend was called (its task taken up) and has said nothing for two minutes.
    Job.objects.filter(pk=silent.pk).update(last_report_at=timezone.now() - timedelta(seconds=120), task_due_at=None)
    assert jobs_fail_stale() == [silent.job_id]
    silent.refresh_from_db()
    fresh.refresh_from_db()
    assert silent.status == Status.FAILED
    assert "silent for too long" in silent.message
    assert fresh.status == Status.PROGRESS


def test_a_repeated_done_report_is_recorded_and_changes_nothing(backend):
    backend(RunOutcome(state="done", products=Products()))
    job = a_job()
    job_execute(job_id=job.job_id)
    assert job_callback(job_id=job.job_id, report={"action": "done", "message": "finished, again"})
    job.refresh_from_db()
    assert job.status == Status.DONE
    repeat = job.events.filter(kind=JobEvent.Kind.STATUS).last()
    assert (repeat.status, repeat.data) == (Status.DONE, {"repeat": True})


def test_the_owner_asking_again_for_a_running_job_is_recorded_for_notifications(monkeypatch):
    monkeypatch.setattr(submission, "job_start", lambda job: job)  # keep it queued
    asked = {"instrument": "empty-async", "product_type": "dummy", "query_type": "Dummy"}
    alice = Caller(sub="alice@example.org")
    first = job_submit(data=asked, caller=alice, session_id="S")
    again = job_submit(data=asked, caller=alice, session_id="S")
    job_submit(data=asked, caller=Caller.public(), session_id="S")
    job_submit(data=asked, caller=Caller.public(), session_id="S")
    job = first.job
    assert first.created and not again.created and again.job.pk == job.pk
    resubmissions = JobEvent.objects.filter(data__resubmitted=True)
    assert [e.job_id for e in resubmissions] == [job.pk]
    assert resubmissions[0].status == Status.SUBMITTED
