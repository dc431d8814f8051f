"""Charlie (another user) and the public see nothing of alice's jobs and change nothing, anywhere."""

from __future__ import annotations

import pytest

from instruments.base import Products
from jobs.models import Job
from jobs.services import job_move
from jobs.services.running import job_finish
from jobs.states import Status
from tests.uws.conftest import Uws

pytestmark = pytest.mark.django_db(transaction=True)

ENDPOINTS = [
    ("get", "", {}),
    ("get", "", {"WAIT": "5"}),
    ("post", "", {"ACTION": "DELETE"}),
    ("delete", "", {}),
    ("get", "/phase", {}),
    ("post", "/phase", {"PHASE": "RUN"}),
    ("post", "/phase", {"PHASE": "ABORT"}),
    ("get", "/executionduration", {}),
    ("post", "/executionduration", {"EXECUTIONDURATION": "10"}),
    ("get", "/destruction", {}),
    ("post", "/destruction", {"DESTRUCTION": "2030-01-01T00:00:00Z"}),
    ("get", "/error", {}),
    ("get", "/quote", {}),
    ("get", "/results", {}),
    ("get", "/results/result", {}),
    ("get", "/results/files/lc.fits", {}),
    ("get", "/parameters", {}),
    ("post", "/parameters", {"src_name": "Vela"}),
    ("get", "/owner", {}),
]


@pytest.fixture
def alices_job(as_alice) -> Job:
    job_id = as_alice.create(src_name="Crab")
    return Job.objects.get(job_id=job_id)


@pytest.fixture
def alices_done_job(as_alice) -> Job:
    job_id = as_alice.create(src_name="Crab", PHASE="RUN")
    job_move(job_id=job_id, to=Status.PROGRESS)
    job_finish(job_id=job_id, products=Products(files={"lc.fits": b"secret"}))
    return Job.objects.get(job_id=job_id)


def call(uws: Uws, method: str, path: str, params: dict):
    if method == "delete":
        return uws.delete(path)
    return getattr(uws, method)(path, **params)


@pytest.mark.parametrize(("method", "path", "params"), ENDPOINTS)
@pytest.mark.parametrize("who", ["charlie", "public"])
def test_the_outsider_is_refused(client, charlie, alices_job, alices_done_job, method, path, params, who):
    outsider = Uws(client, charlie if who == "charlie" else None)
    for job in (alices_job, alices_done_job):
        before = Job.objects.values().get(pk=job.pk)
        response = call(outsider, method, f"/{job.job_id}{path}", params)
        assert response.status_code == 403, (path, response.content)
        text = response.content.decode()
        assert text == "You are not allowed to access this job."
        assert "Crab" not in text and "alice" not in text
        assert Job.objects.values().get(pk=job.pk) == before


def test_the_owner_gets_through_the_same_endpoints(as_alice, alices_job, alices_done_job):
    # The counterpart of the test above: the refusals are about who asks, not the requests.
    for method, path, params in ENDPOINTS:
        if method == "delete" or params.get("ACTION") or params.get("PHASE") == "ABORT":
            continue
        job = alices_done_job if "results" in path or path == "/error" else alices_job
        response = call(as_alice, method, f"/{job.job_id}{path}", params)
        assert response.status_code in (200, 303, 404, 409), (path, response.status_code)
        assert response.status_code != 403


def test_a_public_job_is_open_to_whoever_has_its_id(client, charlie):
    public = Uws(client, None)
    job_id = public.create(src_name="Crab")
    assert Uws(client, charlie).get(f"/{job_id}").status_code == 200
