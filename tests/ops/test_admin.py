"""The jobs admin: columns, filters, search, a job's whole story, and the abort and purge actions."""

from __future__ import annotations

import re

import pytest

from jobs.models import Job
from jobs.products import products_dir
from jobs.states import Status
from notifications.models import Delivery
from notifications.vocabulary import Outcome
from tests.conftest import CHARLIE

pytestmark = pytest.mark.django_db


def test_the_list_has_the_columns_filters_and_search(admin_client, make_job):
    alice_job = make_job()
    make_job(owner=CHARLIE, status=Status.FAILED)
    page = admin_client.get("/admin/jobs/job/")
    html = page.content.decode()
    for column in ("Job id", "Owner", "Instrument", "Product", "Status", "Created at", "Took (s)"):
        assert column in html
    assert "By status" in html and "By instrument" in html and "By created at" in html
    assert len(admin_client.get("/admin/jobs/job/", {"status__exact": "failed"}).context["cl"].result_list) == 1
    found = admin_client.get("/admin/jobs/job/", {"q": alice_job.job_id[:8]}).context["cl"].result_list
    assert list(found) == [alice_job]
    by_owner = admin_client.get("/admin/jobs/job/", {"q": "charlie"}).context["cl"].result_list
    assert [job.owner for job in by_owner] == [CHARLIE]


def test_a_jobs_page_shows_parameters_timeline_products_and_deliveries(admin_client, make_job):
    job = make_job(params={"src_name": "Mrk 421"})
    Delivery.objects.create(
        job=job, event="done", channel="email", recipient="alice@example.org", outcome=Outcome.FAILED, error="down"
    )
    html = admin_client.get(f"/admin/jobs/job/{job.pk}/change/").content.decode()
    assert "Mrk 421" in html
    assert "event timeline" in html.lower() and "job submitted" in html
    assert "result.txt" in html and "all good" in html
    assert "alice@example.org" in html and "down" in html
    # The delivery's own outcome cell, not any "failed" on the page.
    assert re.search(r'class="field-outcome_name">\s*<p>failed</p>', html)
    assert f"/jobs/{job.job_id}/" in html


def test_abort_acts_on_running_jobs_only(admin_client, make_job):
    running, done = make_job(status=Status.PROGRESS), make_job()
    response = admin_client.post(
        "/admin/jobs/job/", {"action": "abort", "_selected_action": [running.pk, done.pk]}, follow=True
    )
    assert "1 job(s) aborted; 1 had already ended." in response.content.decode()
    running.refresh_from_db()
    done.refresh_from_db()
    assert (running.status, done.status) == ("aborted", "done")


def test_purge_removes_finished_jobs_with_their_files(admin_client, make_job):
    running, done = make_job(status=Status.PROGRESS), make_job()
    response = admin_client.post(
        "/admin/jobs/job/", {"action": "purge", "_selected_action": [running.pk, done.pk]}, follow=True
    )
    assert "removed 1 job(s)" in response.content.decode()
    assert list(Job.objects.values_list("pk", flat=True)) == [running.pk]
    assert not products_dir(done.job_id).exists()


def test_django_q_task_views_are_there(admin_client):
    assert admin_client.get("/admin/django_q/schedule/").status_code == 200
    assert admin_client.get("/admin/django_q/failure/").status_code == 200
