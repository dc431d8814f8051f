"""purge_jobs: rows and product files go together; --dry-run removes nothing; running jobs stay."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from jobs.models import Job, JobEvent
from jobs.products import products_dir
from jobs.services.purge import jobs_purge
from jobs.states import Status

pytestmark = pytest.mark.django_db


def purge(*args: str) -> str:
    out = io.StringIO()
    call_command("purge_jobs", *args, "--no-progress", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_it_removes_old_finished_jobs_with_their_files_and_reports_it(make_job):
    old = make_job(age_days=40)
    recent = make_job(age_days=1)
    assert products_dir(old.job_id).is_dir()

    output = purge("--older-than", "30")

    assert not Job.objects.filter(pk=old.pk).exists()
    assert not JobEvent.objects.filter(job_id=old.pk).exists()
    assert not products_dir(old.job_id).exists()
    assert Job.objects.filter(pk=recent.pk).exists()
    assert products_dir(recent.job_id).is_dir()
    assert "removed 1 job(s)" in output
    assert "2 event(s), 1 product folder(s)" in output


def test_dry_run_reports_the_same_and_removes_nothing(make_job):
    old = make_job(age_days=40)

    output = purge("--older-than", "30", "--dry-run")

    assert "Dry run: would remove 1 job(s)" in output
    assert f"  {old.job_id}  done       40.0 days old" in output  # id, status and age
    assert Job.objects.filter(pk=old.pk).exists()
    assert products_dir(old.job_id).is_dir()


def test_status_narrows_it_and_running_jobs_are_never_purged(make_job):
    done = make_job(age_days=40)
    failed = make_job(status=Status.FAILED, age_days=40)
    running = make_job(status=Status.PROGRESS, age_days=40)

    purge("--older-than", "30", "--status", "failed")
    assert set(Job.objects.values_list("pk", flat=True)) == {done.pk, running.pk}

    purge("--older-than", "0")
    assert list(Job.objects.values_list("pk", flat=True)) == [running.pk]
    assert not Job.objects.filter(pk=failed.pk).exists()


def test_old_uws_jobs_never_run_are_purged_too(make_job):
    waiting = make_job(status=Status.SUBMITTED, age_days=40)
    Job.objects.filter(pk=waiting.pk).update(status=Status.PENDING)
    running = make_job(status=Status.PROGRESS, age_days=40)

    purge("--older-than", "30")
    assert list(Job.objects.values_list("pk", flat=True)) == [running.pk]


def test_a_progress_bar_shows_long_work(make_job):
    for _ in range(3):
        make_job(age_days=40)
    err = io.StringIO()
    call_command("purge_jobs", "--older-than", "30", stdout=io.StringIO(), stderr=err)
    assert "100%  3/3 jobs" in err.getvalue()


@pytest.mark.parametrize("args", [["--older-than", "-1"], ["--older-than", "30", "--status", "progress"], []])
def test_bad_arguments_are_refused_with_a_clear_error(args):
    with pytest.raises(CommandError):
        call_command("purge_jobs", *args)


def test_the_service_reports_what_it_would_remove(make_job):
    old = make_job(age_days=40)
    report = jobs_purge(older_than_days=30, dry_run=True)
    assert (report.job_ids, report.jobs, report.product_dirs, report.dry_run) == ([old.job_id], 1, 1, True)
    assert report.events == JobEvent.objects.filter(job=old).count() > 0


def test_help_and_exit_codes_from_a_real_process(tmp_path):
    import subprocess
    import sys

    from django.conf import settings

    env = {"DISPATCHER_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    root = settings.BASE_DIR
    shown = subprocess.run(
        [sys.executable, "manage.py", "purge_jobs", "--help"], cwd=root, env=env, capture_output=True, text=True
    )
    assert shown.returncode == 0
    assert "--older-than DAYS" in shown.stdout
    assert "--dry-run" in shown.stdout
    assert "pending" in shown.stdout and "never run" in shown.stdout  # --status pending is documented
    assert "2 on an unusable argument" in " ".join(shown.stdout.split())
    for unusable in (["--older-than", "x"], ["--older-than", "-1"], ["--older-than", "1", "--status", "progress"]):
        refused = subprocess.run(
            [sys.executable, "manage.py", "purge_jobs", *unusable], cwd=root, env=env, capture_output=True
        )
        assert refused.returncode == 2, (unusable, refused.stderr)
