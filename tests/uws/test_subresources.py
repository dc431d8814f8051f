"""The job's sub-resources and their verbs: executionduration, destruction, error, quote,
results (and results/result), parameters, owner."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.conf import settings

from instruments.base import Products
from instruments.registry import instrument_get
from jobs.interfaces.uws.render import iso_time
from jobs.models import Job
from jobs.services import job_move
from jobs.services.running import job_fail, job_finish
from jobs.states import Status
from tests.uws.conftest import NS, SLOW

pytestmark = pytest.mark.django_db(transaction=True)


def finished(as_alice, **files: bytes) -> str:
    job_id = as_alice.create(**SLOW, src_name="Crab", PHASE="RUN")
    job_move(job_id=job_id, to=Status.PROGRESS)
    job_finish(job_id=job_id, products=Products(text_product_list=[{"name": "t", "value": "v"}], files=files))
    return job_id


def test_execution_duration_is_the_instruments_time_limit(as_alice, valid_xml):
    job_id = as_alice.create()
    limit = int(instrument_get("empty").timeout_s)
    assert as_alice.get(f"/{job_id}/executionduration").content.decode() == str(limit)
    assert valid_xml(as_alice.get(f"/{job_id}")).find("uws:executionDuration", NS).text == str(limit)


def test_posting_an_execution_duration_keeps_the_servers(as_alice):
    job_id = as_alice.create()
    response = as_alice.post(f"/{job_id}/executionduration", EXECUTIONDURATION="60")
    assert response.status_code == 303
    assert response["Location"].endswith(f"/uws/jobs/{job_id}")
    assert as_alice.get(f"/{job_id}/executionduration").content.decode() == str(int(instrument_get("empty").timeout_s))
    assert as_alice.post(f"/{job_id}/executionduration", EXECUTIONDURATION="soon").status_code == 400


def test_destruction_follows_the_retention_policy(as_alice):
    job_id = as_alice.create()
    job = Job.objects.get(job_id=job_id)
    expected = iso_time(job.created_at + timedelta(days=settings.RETENTION_DAYS))
    assert as_alice.get(f"/{job_id}/destruction").content.decode() == expected
    response = as_alice.post(f"/{job_id}/destruction", DESTRUCTION="2030-01-01T00:00:00Z")
    assert response.status_code == 303
    assert as_alice.get(f"/{job_id}/destruction").content.decode() == expected
    assert as_alice.post(f"/{job_id}/destruction", DESTRUCTION="tomorrow").status_code == 400


def test_error_is_the_message_of_a_failed_job(as_alice):
    job_id = as_alice.create(**SLOW, PHASE="RUN")
    assert as_alice.get(f"/{job_id}/error").status_code == 404
    job_fail(job_id=job_id, message="The backend is down.")
    response = as_alice.get(f"/{job_id}/error")
    assert response.status_code == 200
    assert response.content == b"The backend is down."


def test_quote_is_unknown(as_alice, valid_xml):
    job_id = as_alice.create()
    response = as_alice.get(f"/{job_id}/quote")
    assert (response.status_code, response.content) == (200, b"")
    quote = valid_xml(as_alice.get(f"/{job_id}")).find("uws:quote", NS)
    assert quote.get(f"{{{NS['xsi']}}}nil") == "true"


def test_owner_is_the_tokens_subject(as_alice):
    job_id = as_alice.create()
    assert as_alice.get(f"/{job_id}/owner").content == b"alice@example.org"


def test_parameters_are_listed_and_cannot_change(as_alice, valid_xml):
    job_id = as_alice.create(src_name="Crab")
    root = valid_xml(as_alice.get(f"/{job_id}/parameters"))
    values = {p.get("id"): p.text for p in root.findall("uws:parameter", NS)}
    assert values["src_name"] == "Crab"
    response = as_alice.post(f"/{job_id}/parameters", src_name="Vela")
    assert response.status_code == 409
    assert "identity" in response.content.decode()
    assert Job.objects.get(job_id=job_id).params["src_name"] == "Crab"


def test_results_are_empty_until_the_job_is_done(as_alice, valid_xml):
    job_id = as_alice.create()
    assert valid_xml(as_alice.get(f"/{job_id}/results")).findall("uws:result", NS) == []
    response = as_alice.get(f"/{job_id}/results/result")
    assert response.status_code == 404
    assert "PENDING" in response.content.decode()


def test_the_main_result_is_the_product_listing(as_alice, valid_xml):
    job_id = finished(as_alice, **{"lc.fits": b"FITS DATA"})
    ids = [r.get("id") for r in valid_xml(as_alice.get(f"/{job_id}/results")).findall("uws:result", NS)]
    assert ids == ["result", "lc.fits"]
    response = as_alice.get(f"/{job_id}/results/result")
    assert response.status_code == 200
    body = json.loads(response.content)
    assert body["job_id"] == job_id
    assert body["products"]["text_product_list"] == [{"name": "t", "value": "v"}]
    assert body["products"]["file_list"] == ["lc.fits"]


def test_a_result_file_is_downloadable_and_nothing_else(as_alice):
    job_id = finished(as_alice, **{"lc.fits": b"FITS DATA"})
    response = as_alice.get(f"/{job_id}/results/files/lc.fits")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"FITS DATA"
    assert as_alice.get(f"/{job_id}/results/files/products.json").status_code == 404
    assert as_alice.get(f"/{job_id}/results/files/..").status_code == 404


def test_unknown_job_is_404(as_alice):
    for path in ("", "/phase", "/results", "/results/result", "/owner", "/error"):
        assert as_alice.get(f"/{'0' * 64}{path}").status_code == 404


def test_verbs_the_standard_does_not_give_are_405(as_alice):
    job_id = as_alice.create()
    for path in ("/error", "/quote", "/owner", "/results", "/results/result"):
        assert as_alice.post(f"/{job_id}{path}").status_code == 405
    assert as_alice.delete(f"/{job_id}/phase").status_code == 405
