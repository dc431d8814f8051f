"""The admin's job page shows the job's preview: the one the done notices carried, drawn by a worker."""

from __future__ import annotations

import base64
import re

import pytest

from jobs import tasks
from jobs.previews import preview_load, preview_make
from tests.lightcurves import done_lightcurve_job

pytestmark = pytest.mark.django_db

IMG = re.compile(r'<img class="job-preview" src="data:image/png;base64,([^"]+)" width="600" height="400"')


def test_the_admin_shows_the_kept_preview(admin_client):
    job = done_lightcurve_job(owner="alice@example.org")
    kept = preview_make(job)  # as the worker that sent the done mail did

    html = admin_client.get(f"/admin/jobs/job/{job.pk}/change/").content.decode()

    (encoded,) = IMG.findall(html)
    assert base64.b64decode(encoded) == kept.png


def test_a_preview_not_drawn_yet_is_ordered_from_a_worker_never_drawn_in_the_request(admin_client, monkeypatch):
    job = done_lightcurve_job(owner="alice@example.org")
    ordered = []
    monkeypatch.setattr("jobs.scheduling.enqueue", lambda func, *args: ordered.append((func, args)) or "task")
    monkeypatch.setattr("jobs.previews.preview_render", lambda lists: pytest.fail("drawn in a web request"))

    html = admin_client.get(f"/admin/jobs/job/{job.pk}/change/").content.decode()

    assert "being drawn by a worker" in html and not IMG.search(html)
    assert ordered == [("jobs.tasks.job_preview_task", (job.job_id,))]
    monkeypatch.undo()
    assert tasks.job_preview_task(job.job_id) is True  # what the worker runs
    (encoded,) = IMG.findall(admin_client.get(f"/admin/jobs/job/{job.pk}/change/").content.decode())
    assert base64.b64decode(encoded) == preview_load(job).png


def test_a_job_without_a_drawable_product_shows_none_and_orders_nothing(admin_client, make_job, monkeypatch):
    job = make_job()  # a text file only
    monkeypatch.setattr("jobs.scheduling.enqueue", lambda *args: pytest.fail("ordered"))
    html = admin_client.get(f"/admin/jobs/job/{job.pk}/change/").content.decode()
    assert "none: no product to draw" in html
