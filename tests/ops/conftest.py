from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dispatcher_site.auth import user_sync_forget
from instruments.base import Products
from jobs.models import Job
from jobs.services import job_get_or_create, job_move
from jobs.services.running import job_finish
from jobs.states import Status
from tests.conftest import ALICE


@pytest.fixture(autouse=True)
def _products_apart(settings, tmp_path):
    """Each test keeps its product files in a folder of its own."""
    settings.PRODUCTS_DIR = tmp_path / "products"
    user_sync_forget()


@pytest.fixture
def make_job():
    """A job of ``owner`` in ``status``, ``age_days`` old; done jobs get a product file."""

    def make(
        owner: str = ALICE,
        status: str = Status.DONE,
        *,
        age_days: float = 0,
        product: str = "echo",
        params: dict | None = None,
        instrument: str = "empty",
    ) -> Job:
        params = params if params is not None else {"n": make.counter}
        make.counter += 1
        job, _ = job_get_or_create(owner=owner, instrument=instrument, product_type=product, params=params)
        if status == Status.DONE:
            job_finish(job_id=job.job_id, products=Products(files={"result.txt": b"42\n"}, comment="all good"))
        elif status != Status.SUBMITTED:
            if status != Status.PROGRESS:
                job_move(job_id=job.job_id, to=Status.PROGRESS)
            job_move(job_id=job.job_id, to=status, message=f"made {status}")
        if age_days:
            Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(days=age_days))
        job.refresh_from_db()
        return job

    make.counter = 0
    return make
