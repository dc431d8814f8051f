"""Jobs survive faults: a new attempt after failure, the two clocks of the stale sweep,
leases on backend calls, lost tasks, delayed tasks, and a broker that refuses work.

Fast tests of the services with fake adapters; the end-to-end fault tests (a live
service, its own redis-server, a worker cluster killed) are in tests/e2e/test_faults_*.py.
"""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.management import get_commands
from django.utils import timezone

from dispatcher_site.auth import Caller
from instruments.base import Adapter, AdapterError, Products, RunOutcome
from jobs import scheduling
from jobs.errors import IllegalTransition, QueueUnavailable
from jobs.models import DelayedTask, Job, JobEvent
from jobs.services import job_fail, job_get_or_create, job_move, job_run, job_submit, jobs_requeue
from jobs.services import running as execution
from jobs.services.records import job_report_progress
from jobs.services.running import MAX_BACKEND_CALLS, job_execute, job_poll, jobs_fail_stale
from jobs.states import Status
from jobs.timer import TaskTimer

pytestmark = pytest.mark.django_db

ALICE = Caller(sub="alice@example.org", roles=frozenset({"general"}))
ASKED = {"instrument": "empty-async", "product_type": "dummy", "query_type": "Dummy"}


class Scripted(Adapter):
    """Answers each call with the next of ``answers`` (the last one repeats); notes what it saw."""

    kind = "scripted"

    def __init__(self, *answers):
        super().__init__(name="scripted")
        self.answers = list(answers)
        self.requests = []
        self.leases_seen = []

    def _answer(self, request):
        self.requests.append(request)
        self.leases_seen.append(Job.objects.get(job_id=request.job_id).lease_until)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, BaseException):
            raise answer
        return answer

    run = poll = _answer


@pytest.fixture
def backend(monkeypatch):
    def use(*answers, timeout_s: float = 60.0) -> Scripted:
        adapter = Scripted(*answers)
        handle = SimpleNamespace(adapter=adapter, kind="scripted", timeout_s=timeout_s, name="scripted")
        monkeypatch.setattr(execution, "instrument_get", lambda name: handle)
        return adapter

    return use


@pytest.fixture
def queued(monkeypatch):
    """Tasks put on the broker, kept here instead of run."""
    tasks = []
    monkeypatch.setattr(scheduling, "async_task", lambda func, *args, **kw: tasks.append((func, args)) or "id")
    return tasks


@pytest.fixture(autouse=True)
def _after_commit_at_once(monkeypatch):
    """What waits for the commit (queueing a run) happens at once: the test's transaction never commits."""
    from django.db import transaction

    monkeypatch.setattr(transaction, "on_commit", lambda func, using=None, robust=False: func())


@pytest.fixture
def broker_down(monkeypatch):
    def refuse(func, *args, **kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(scheduling, "async_task", refuse)


def a_job(**params) -> Job:
    job, _ = job_get_or_create(owner="alice@example.org", instrument="scripted", product_type="p", params=params)
    return job


def ago(seconds: float):
    return timezone.now() - timedelta(seconds=seconds)


# -- a new attempt ------------------------------------------------------------


def test_asking_again_for_a_failed_job_runs_it_again_as_its_next_attempt(queued):
    first = job_submit(data=ASKED, caller=ALICE, session_id="S").job
    job_move(job_id=first.job_id, to=Status.PROGRESS, message="backend called")
    job_report_progress(job_id=first.job_id, message="half way", dedup_key="k1")
    job_fail(job_id=first.job_id, message="The backend fell over.")

    again = job_submit(data=ASKED, caller=ALICE, session_id="S")

    job = again.job
    assert not again.created and job.job_id == first.job_id
    assert (job.status, job.attempt, job.message, job.finished_at, job.backend_calls) == ("submitted", 2, "", None, 0)
    history = list(job.events.values_list("attempt", "status", "message"))
    assert history[:4] == [
        (1, "submitted", "job submitted"),
        (1, "progress", "backend called"),
        (1, "progress", "half way"),
        (1, "failed", "The backend fell over."),
    ]
    assert history[4] == (2, "submitted", "job submitted again: attempt 2")
    assert queued[-1] == ("jobs.tasks.job_run_task", (job.job_id, 2, 1))
    # The same report in the new attempt is news, not a repeat.
    assert job_report_progress(job_id=job.job_id, message="half way", dedup_key="k1") is not None


def test_an_aborted_job_runs_again_and_a_done_or_running_one_does_not(queued):
    job = job_submit(data=ASKED, caller=ALICE).job
    job_move(job_id=job.job_id, to=Status.ABORTED, message="stop")
    assert job_run(job_id=job.job_id).attempt == 2
    assert job_run(job_id=job.job_id).attempt == 2, "running twice starts one attempt"
    job_move(job_id=job.job_id, to=Status.DONE)
    assert job_submit(data=ASKED, caller=ALICE).job.status == Status.DONE
    assert len([task for task in queued if task[0] == "jobs.tasks.job_run_task"]) == 2


def test_a_uws_creation_of_a_failed_job_makes_it_pending_again(queued):
    job = job_submit(data=ASKED, caller=ALICE).job
    job_fail(job_id=job.job_id, message="no")
    pending = job_submit(data=ASKED, caller=ALICE, pending=True).job
    assert (pending.status, pending.attempt) == (Status.PENDING, 2)
    assert len(queued) == 1, "a pending attempt is not queued"


def test_tasks_of_an_earlier_attempt_do_nothing(backend, queued):
    adapter = backend(RunOutcome(state="done", products=Products()))
    job = a_job()
    job_fail(job_id=job.job_id, message="first attempt failed")
    job_run(job_id=job.job_id)
    job_execute(job_id=job.job_id, attempt=1, call=1)
    job_poll(job_id=job.job_id, attempt=1)
    assert adapter.requests == []
    job_execute(job_id=job.job_id, attempt=2, call=1)
    assert [(r.attempt, r.call) for r in adapter.requests] == [(2, 1)]
    assert Job.objects.get(pk=job.pk).status == Status.DONE


# -- leases -----------------------------------------------------------------


def test_a_backend_call_holds_the_lease_and_lets_it_go(backend):
    adapter = backend(RunOutcome(state="progress", message="started"))
    job = a_job()
    job_execute(job_id=job.job_id, attempt=1, call=1)
    job.refresh_from_db()
    assert adapter.leases_seen[0] is not None and adapter.leases_seen[0] > timezone.now()
    assert job.lease_until is None and job.backend_calls == 1 and job.task_due_at is None


def test_a_run_task_delivered_twice_calls_the_backend_once(backend):
    adapter = backend(RunOutcome(state="progress"))
    job = a_job()
    job_execute(job_id=job.job_id, attempt=1, call=1)
    job_execute(job_id=job.job_id, attempt=1, call=1)
    assert len(adapter.requests) == 1


def test_a_call_while_another_worker_holds_the_lease_is_not_made(backend):
    adapter = backend(RunOutcome(state="progress"))
    job = a_job()
    Job.objects.filter(pk=job.pk).update(lease_until=timezone.now() + timedelta(seconds=30))
    job_execute(job_id=job.job_id, attempt=1, call=1)
    assert adapter.requests == []


def test_a_poll_that_finds_the_lease_held_comes_back_later_instead_of_waiting(backend):
    adapter = backend(RunOutcome(state="progress"))
    job = a_job()
    job_move(job_id=job.job_id, to=Status.PROGRESS)
    Job.objects.filter(pk=job.pk).update(lease_until=timezone.now() + timedelta(seconds=30))
    job_poll(job_id=job.job_id, attempt=1)
    assert adapter.requests == []
    later = DelayedTask.objects.get()
    assert (later.func, later.args) == ("jobs.tasks.job_poll_task", [job.job_id, 1])


def test_a_poll_asked_for_waits_as_a_delayed_task_and_no_worker_sleeps(backend, queued):
    backend(RunOutcome(state="progress", poll_after_s=1.0))
    job = a_job()
    job_execute(job_id=job.job_id, attempt=1, call=1)
    poll = DelayedTask.objects.get()
    assert (poll.func, poll.args) == ("jobs.tasks.job_poll_task", [job.job_id, 1])
    assert queued == [], "nothing was queued to sleep in a worker"
    job.refresh_from_db()
    assert job.task_due_at == poll.due_at or abs((job.task_due_at - poll.due_at).total_seconds()) < 0.1
    assert scheduling.delayed_tasks_send(now=poll.due_at + timedelta(seconds=0.1)) == 1
    assert queued == [("jobs.tasks.job_poll_task", (job.job_id, 1))]
    assert not DelayedTask.objects.exists(), "a sent task leaves no row behind"


def test_a_worker_that_died_in_a_call_has_the_call_made_again(backend, tasks_inline):
    adapter = backend(RunOutcome(state="done", products=Products()))
    job = a_job()
    job_move(job_id=job.job_id, to=Status.PROGRESS, message="backend called")
    # Call 1 was taken and its worker was killed: the lease ran out without renewals.
    Job.objects.filter(pk=job.pk).update(backend_calls=1, lease_until=ago(1))

    requeued = jobs_requeue()

    assert requeued.worker_died == [job.job_id]
    job.refresh_from_db()
    assert job.status == Status.DONE
    assert [r.call for r in adapter.requests] == [2]
    assert job.events.filter(message__startswith="The worker calling the backend stopped").exists()


def test_a_worker_dying_on_the_last_call_fails_the_job(backend):
    backend(RunOutcome(state="done", products=Products()))
    job = a_job()
    job_move(job_id=job.job_id, to=Status.PROGRESS)
    Job.objects.filter(pk=job.pk).update(backend_calls=MAX_BACKEND_CALLS, lease_until=ago(1))
    jobs_requeue()
    job.refresh_from_db()
    assert job.status == Status.FAILED
    calls = MAX_BACKEND_CALLS
    assert job.message == f"The worker calling the backend stopped, and the backend was called {calls} times."


# -- lost tasks -----------------------------------------------------------------


def test_a_task_lost_on_its_way_is_sent_again_once_the_queue_is_empty(backend, queued, monkeypatch, settings):
    settings.REQUEUE_AFTER_S = 60
    job = a_job()  # submitted; its run task is due from now
    lost, fresh = job.job_id, a_job(n=2).job_id
    Job.objects.filter(job_id=lost).update(task_due_at=ago(120))
    monkeypatch.setattr(scheduling, "queue_is_empty", lambda: False)
    assert jobs_requeue().task_lost == [], "tasks still queued are waiting their turn"
    monkeypatch.setattr(scheduling, "queue_is_empty", lambda: True)
    assert jobs_requeue().task_lost == [lost]
    assert queued == [("jobs.tasks.job_run_task", (lost, 1, 1))]
    assert jobs_requeue().task_lost == [], "sent again once, not on every sweep"
    assert Job.objects.get(job_id=fresh).task_due_at > ago(5)


# -- the stale sweep's two clocks -----------------------------------------------


def test_waiting_in_the_queue_is_not_silence(backend, settings):
    backend(RunOutcome(state="progress"), timeout_s=60)
    settings.QUEUE_TIMEOUT_S = 3 * 3600
    waiting, waited_too_long = a_job(n=1), a_job(n=2)
    Job.objects.filter(pk=waiting.pk).update(last_report_at=ago(2 * 3600))
    Job.objects.filter(pk=waited_too_long.pk).update(last_report_at=ago(4 * 3600))

    assert jobs_fail_stale() == [waited_too_long.job_id]

    assert Job.objects.get(pk=waiting.pk).status == Status.SUBMITTED
    failed = Job.objects.get(pk=waited_too_long.pk)
    assert failed.message == (
        "The job waited more than 3 h in the queue without a free worker to run it "
        "(the service is overloaded). Please submit it again later."
    )


def test_a_call_in_flight_or_a_poll_in_the_queue_is_not_silence_but_a_silent_backend_is(backend, settings):
    backend(RunOutcome(state="progress"), timeout_s=60)
    settings.QUEUE_TIMEOUT_S = 3600
    calling, polling, polled_too_late, silent = a_job(n=1), a_job(n=2), a_job(n=3), a_job(n=4)
    for job in (calling, polling, polled_too_late, silent):
        job_move(job_id=job.job_id, to=Status.PROGRESS)
        Job.objects.filter(pk=job.pk).update(last_report_at=ago(120), task_due_at=None)
    Job.objects.filter(pk=calling.pk).update(lease_until=timezone.now() + timedelta(seconds=30))
    Job.objects.filter(pk=polling.pk).update(task_due_at=ago(100))  # its poll waits behind a backlog
    Job.objects.filter(pk=polled_too_late.pk).update(task_due_at=ago(3700))
    assert sorted(jobs_fail_stale()) == sorted([silent.job_id, polled_too_late.job_id])
    assert "in the queue" in Job.objects.get(pk=polled_too_late.pk).message


# -- the broker refusing work ---------------------------------------------------


def test_a_job_accepted_while_the_broker_is_down_waits_in_the_outbox(broker_down, client, monkeypatch):
    response = client.post("/run_analysis", {**ASKED, "session_id": "S"})
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["query_status"] == "submitted"
    job = Job.objects.get(job_id=answer["job_monitor"]["job_id"])
    outbox = DelayedTask.objects.get()
    assert (outbox.func, outbox.args) == ("jobs.tasks.job_run_task", [job.job_id, 1, 1])
    # Back up: the timer hands it over and deletes it.
    sent = []
    monkeypatch.setattr(scheduling, "async_task", lambda func, *args, **kw: sent.append((func, args)))
    assert scheduling.delayed_tasks_send() == 1
    assert sent == [("jobs.tasks.job_run_task", (job.job_id, 1, 1))]
    assert not DelayedTask.objects.exists()


def test_a_delayed_task_the_broker_refuses_stays_and_is_tried_later(broker_down):
    scheduling.enqueue_later("jobs.tasks.job_poll_task", "J", 1, delay_s=0)
    with pytest.raises(QueueUnavailable):
        scheduling.enqueue("jobs.tasks.job_poll_task", "J", 1)
    assert scheduling.delayed_tasks_send() == 0
    task = DelayedTask.objects.get()
    assert task.due_at > timezone.now() + timedelta(seconds=scheduling.HANDOVER_S - 5)


def test_two_timers_hand_a_task_over_once(queued):
    scheduling.enqueue_later("jobs.tasks.job_poll_task", "J", 1, delay_s=0)
    now = timezone.now() + timedelta(seconds=1)
    assert scheduling.delayed_tasks_send(now=now) + scheduling.delayed_tasks_send(now=now) == 1
    assert len(queued) == 1


def test_the_task_timer_sends_due_tasks_and_survives_a_database_error(queued, monkeypatch):
    scheduling.enqueue_later("jobs.tasks.job_poll_task", "J", 1, delay_s=0)
    timer = TaskTimer()
    timer.tick()
    assert queued == [("jobs.tasks.job_poll_task", ("J", 1))]

    from django.db import OperationalError

    def broken(**kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(scheduling, "delayed_tasks_send", broken)
    timer.tick()  # logged, not raised
    assert timer._failing


def test_qcluster_is_ours_so_that_the_timer_runs_beside_every_cluster():
    assert get_commands()["qcluster"] == "dispatcher_site"


def test_abort_of_an_ended_job_is_still_refused():
    job = a_job()
    job_fail(job_id=job.job_id, message="no")
    with pytest.raises(IllegalTransition):
        job_move(job_id=job.job_id, to=Status.ABORTED)
    assert JobEvent.objects.filter(job=job, status=Status.ABORTED).count() == 0


def test_a_retry_after_a_transient_error_is_the_next_call_of_the_attempt(backend):
    adapter = backend(AdapterError("busy", retryable=True), RunOutcome(state="done", products=Products()))
    job = a_job()
    job_execute(job_id=job.job_id, attempt=1, call=1)
    retry = DelayedTask.objects.get()
    assert retry.args == [job.job_id, 1, 2]
    job_execute(job_id=job.job_id, attempt=1, call=2)
    assert [r.call for r in adapter.requests] == [1, 2]
    assert Job.objects.get(pk=job.pk).status == Status.DONE


def test_a_job_answered_at_once_never_finishes_before_it_was_created():
    from jobs.services.records import job_create_finished

    job, _ = job_create_finished(
        owner="", instrument="scripted", product_type="p", params={}, outcome=Status.DONE, message="done"
    )
    job.refresh_from_db()
    assert job.created_at == job.started_at == job.finished_at
    assert all(event.created_at >= job.created_at for event in job.events.all())
