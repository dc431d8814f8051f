"""POST /uws/jobs: the ODA protocol's validation and job identity, PENDING until PHASE=RUN."""

from __future__ import annotations

import pytest
from django.conf import settings

from dispatcher_site.tokens import token_issue
from jobs.models import Job
from jobs.services.records import job_set_archived
from jobs.states import Status
from tests.uws.conftest import NS, Uws, phase_of

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_new_job_is_pending_and_answered_with_303_to_it(as_alice, valid_xml):
    response = as_alice.post(instrument="empty", product_type="echo", src_name="Crab", RUNID="run-1")
    assert response.status_code == 303
    job = Job.objects.get()
    assert response["Location"] == f"{settings.PUBLIC_URL}/uws/jobs/{job.job_id}"
    assert job.status == Status.PENDING
    assert job.owner == "alice@example.org"
    assert job.params["src_name"] == "Crab"
    assert job.run_id == "run-1"
    root = valid_xml(as_alice.get(f"/{job.job_id}"))
    assert phase_of(root) == "PENDING"
    assert root.find("uws:runId", NS).text == "run-1"


def test_a_pending_job_is_not_queued(as_alice, tasks_inline):
    job_id = as_alice.create(product_type="dummy", query_type="Dummy")
    assert Job.objects.get(job_id=job_id).status == Status.PENDING


def test_phase_run_at_creation_runs_it(as_alice, tasks_inline):
    job_id = as_alice.create(product_type="dummy", query_type="Dummy", PHASE="RUN")
    assert Job.objects.get(job_id=job_id).status == Status.DONE
    assert as_alice.get(f"/{job_id}/phase").content == b"COMPLETED"


def test_uws_names_are_case_insensitive(as_alice):
    job_id = as_alice.create(INSTRUMENT="empty", Product_Type="echo", phase="run", RunId="r", src_name="Crab")
    job = Job.objects.get(job_id=job_id)
    # PHASE=RUN started it; echo is answered within the request, so it is already done.
    assert (job.status, job.run_id, job.product_type) == (Status.DONE, "r", "echo")
    assert "phase" not in job.params and "RunId" not in job.params


def test_it_is_the_same_job_as_the_same_protocol_request(client, alice, as_alice, tasks_inline):
    job_id = as_alice.create(product_type="echo", src_name="Crab", PHASE="RUN")
    answer = client.get(
        "/run_analysis",
        {"instrument": "empty", "product_type": "echo", "src_name": "Crab", "query_status": "new", "token": alice},
    ).json()
    assert answer["job_monitor"]["job_id"] == job_id
    assert Job.objects.count() == 1


def test_a_protocol_request_joining_a_pending_job_starts_it(client, alice, as_alice, tasks_inline):
    job_id = as_alice.create(product_type="dummy", query_type="Dummy")
    answer = client.get(
        "/run_analysis",
        {"instrument": "empty", "product_type": "dummy", "query_type": "Dummy", "query_status": "new", "token": alice},
    ).json()
    assert answer["job_monitor"]["job_id"] == job_id
    assert Job.objects.get(job_id=job_id).status == Status.DONE


def test_creating_again_a_deleted_job_brings_it_back(as_alice, valid_xml):
    job_id = as_alice.create(src_name="Crab")
    job_set_archived(job_id=job_id, archived=True)
    assert as_alice.create(src_name="Crab") == job_id
    assert Job.objects.get(job_id=job_id).archived_at is None
    assert len(valid_xml(as_alice.get()).findall("uws:jobref", NS)) == 1


@pytest.mark.parametrize(
    ("fields", "text"),
    [
        ({"instrument": "no-such"}, "no-such"),
        ({"instrument": ""}, "Please give instrument"),
        ({"product_type": ""}, "Please give product_type"),
        ({"product_type": "dummy"}, "needs query_type=Dummy"),
        ({"query_type": "Maybe"}, "query_type must be one of"),
        ({"PHASE": "ABORT"}, "PHASE=RUN only"),
    ],
)
def test_bad_requests_are_400_and_make_no_job(as_alice, fields, text):
    response = as_alice.post(**{"instrument": "empty", "product_type": "echo", **fields})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert text in response.content.decode()
    assert not Job.objects.exists()


def test_a_bad_parameter_value_is_400(as_alice):
    response = as_alice.post(instrument="empty", product_type="numerical", p="900")
    assert response.status_code == 400
    assert "p" in response.content.decode()


def test_roles_are_checked_as_in_the_protocol(client):
    general = Uws(client, token_issue(email="g@example.org", roles=["general"]))
    response = general.post(instrument="empty", product_type="numerical", p="100")
    assert response.status_code == 403
    assert "unige-hpc-full" in response.content.decode()
    assert Uws(client, None).post(instrument="empty-development", product_type="dummy").status_code == 403
    assert not Job.objects.exists()


def test_a_bad_token_is_refused(client):
    response = Uws(client, "not-a-token").post(instrument="empty", product_type="echo")
    assert response.status_code == 400
    assert "malformed" in response.content.decode()
    assert not Job.objects.exists()


def test_the_token_can_come_as_a_parameter(client, alice):
    response = client.post("/uws/jobs", {"instrument": "empty", "product_type": "echo", "token": alice})
    assert response.status_code == 303
    job = Job.objects.get()
    assert job.owner == "alice@example.org"
    assert "token" not in job.params
