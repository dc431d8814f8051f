"""The scheduled upkeep: created idempotently, and each schedule's function does its work."""

from __future__ import annotations

import logging
import pydoc
from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule, Task
from django_q.scheduler import scheduler

from jobs.models import Job
from jobs.products import products_dir
from jobs.scheduling import SCHEDULES, schedules_ensure
from jobs.states import Status
from jobs.tasks import old_jobs_purge, stale_jobs_fail

pytestmark = pytest.mark.django_db


def test_schedules_are_created_once_however_often_it_runs():
    Schedule.objects.all().delete()
    schedules_ensure()
    first = {s.name: (s.pk, s.func, s.minutes) for s in Schedule.objects.all()}
    schedules_ensure()
    second = {s.name: (s.pk, s.func, s.minutes) for s in Schedule.objects.all()}
    assert first == second
    assert set(first) == {"jobs: fail stale jobs", "jobs: purge old jobs"}
    assert first["jobs: purge old jobs"][1] == "jobs.tasks.old_jobs_purge"


def test_a_changed_schedule_is_put_back():
    schedules_ensure()
    Schedule.objects.filter(name="jobs: purge old jobs").update(minutes=999, func="x.y")
    schedules_ensure()
    purge = Schedule.objects.get(name="jobs: purge old jobs")
    assert (purge.func, purge.minutes) == SCHEDULES["jobs: purge old jobs"]
    assert Schedule.objects.filter(name="jobs: purge old jobs").count() == 1


def test_each_schedule_names_its_task_as_django_q2_finds_it():
    # django-q2's worker turns a task's dotted name into a function with pydoc.locate
    # (django_q/worker.py), which gives None rather than raising for a name it cannot find.
    schedules_ensure()
    found = {schedule.name: pydoc.locate(schedule.func) for schedule in Schedule.objects.all()}
    assert found == {"jobs: fail stale jobs": stale_jobs_fail, "jobs: purge old jobs": old_jobs_purge}


def test_due_schedules_do_their_work_through_django_q2(settings, make_job, tasks_inline):
    settings.RETENTION_DAYS = 10
    old = make_job(age_days=11)
    silent = make_job(status=Status.PROGRESS)
    Job.objects.filter(pk=silent.pk).update(last_report_at=timezone.now() - timedelta(hours=2), task_due_at=None)
    schedules_ensure()
    Schedule.objects.update(next_run=timezone.now() - timedelta(seconds=1))

    scheduler()  # what the cluster does every 30 s; with SYNC the tasks run here, now

    ran = {task.func: (task.success, task.result) for task in Task.objects.all()}
    assert ran == {"jobs.tasks.stale_jobs_fail": (True, 1), "jobs.tasks.old_jobs_purge": (True, 1)}
    silent.refresh_from_db()
    assert silent.status == Status.FAILED
    assert not Job.objects.filter(pk=old.pk).exists()
    # Each schedule stays, due again later.
    now = timezone.now()
    kept = {s.name: (s.repeats, s.next_run > now) for s in Schedule.objects.all()}
    assert kept == {"jobs: fail stale jobs": (-1, True), "jobs: purge old jobs": (-1, True)}


def test_the_purge_schedule_removes_jobs_past_the_retention(settings, make_job):
    settings.RETENTION_DAYS = 10
    old = make_job(age_days=11)
    young = make_job(age_days=9)
    assert old_jobs_purge() == 1
    assert list(Job.objects.values_list("pk", flat=True)) == [young.pk]
    assert not products_dir(old.job_id).exists()


def test_the_stale_schedule_fails_silent_jobs_with_an_incident_line(
    make_job, caplog, django_capture_on_commit_callbacks
):
    silent = make_job(status=Status.PROGRESS)
    lively = make_job(status=Status.PROGRESS)
    Job.objects.filter(pk=silent.pk).update(last_report_at=timezone.now() - timedelta(hours=2), task_due_at=None)
    with caplog.at_level(logging.WARNING, logger="jobs.tasks"), django_capture_on_commit_callbacks() as signals:
        assert stale_jobs_fail() == 1
    silent.refresh_from_db()
    lively.refresh_from_db()
    assert silent.status == Status.FAILED
    assert "silent for too long" in silent.message
    assert lively.status == Status.PROGRESS
    assert f"incident: 1 stale job(s) failed: {silent.job_id[:12]}" in caplog.text
    # The failure is a job event: notifications hear of it (owner and incident rooms) after commit.
    assert signals


def test_the_purge_schedule_also_removes_old_task_records_failures_included(settings):
    settings.RETENTION_DAYS = 10
    now = timezone.now()
    for name, days, success in (("old-failure", 11, False), ("old-success", 12, True), ("recent", 1, False)):
        Task.objects.create(
            id=name, name=name, func="x.y", started=now - timedelta(days=days), stopped=now - timedelta(days=days),
            success=success,
        )  # fmt: skip
    old_jobs_purge()
    assert list(Task.objects.values_list("id", flat=True)) == ["recent"]


def test_later_tasks_leave_no_schedule_behind(queued_nowhere):
    from jobs.models import DelayedTask
    from jobs.scheduling import delayed_tasks_send, enqueue_later

    before = Schedule.objects.count()
    enqueue_later("jobs.tasks.job_poll_task", "J", 1, delay_s=120)
    assert Schedule.objects.count() == before, "no django-q2 one-off schedule per poll"
    assert delayed_tasks_send(now=timezone.now() + timedelta(seconds=121)) == 1
    assert not DelayedTask.objects.exists()


@pytest.fixture
def queued_nowhere(monkeypatch):
    monkeypatch.setattr("jobs.scheduling.async_task", lambda func, *args, **kwargs: "id")
