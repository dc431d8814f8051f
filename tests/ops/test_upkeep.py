"""The scheduled upkeep: created idempotently, and each schedule's function does its work."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule

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


def test_schedule_functions_resolve_to_callables():
    from importlib import import_module

    for func, _ in SCHEDULES.values():
        module, _, name = func.rpartition(".")
        assert callable(getattr(import_module(module), name))


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
    Job.objects.filter(pk=silent.pk).update(last_report_at=timezone.now() - timedelta(hours=2))
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
