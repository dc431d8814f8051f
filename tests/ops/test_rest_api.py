"""The REST API under /api/v1/ with alice and charlie: charlie sees and touches nothing of alice's."""

from __future__ import annotations

import pytest

from dispatcher_site.tokens import token_issue
from jobs.models import Job
from jobs.states import Status
from tests.conftest import ALICE, CHARLIE

pytestmark = pytest.mark.django_db


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def assert_protocol_error(response, status: int, text: str = "") -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"] == body["error_message"] == body["exit_status"]["message"]
    assert body["exit_status"]["status"] == 1
    assert text in body["error"]


# --- listing -------------------------------------------------------------------------------------


def test_alice_lists_her_jobs_newest_first_filtered_and_paginated(client, alice, make_job):
    first = make_job(age_days=2)
    failed = make_job(status=Status.FAILED, age_days=1)
    make_job(owner=CHARLIE)
    answer = client.get("/api/v1/jobs/", **bearer(alice)).json()
    assert answer["count"] == 2
    assert [job["job_id"] for job in answer["results"]] == [failed.job_id, first.job_id]
    assert answer["results"][0]["url"].endswith(f"/api/v1/jobs/{failed.job_id}/")

    only_failed = client.get("/api/v1/jobs/", {"status": "failed"}, **bearer(alice)).json()
    assert [job["job_id"] for job in only_failed["results"]] == [failed.job_id]
    assert client.get("/api/v1/jobs/", {"instrument": "other"}, **bearer(alice)).json()["count"] == 0

    page = client.get("/api/v1/jobs/", {"page_size": 1, "page": 2}, **bearer(alice)).json()
    assert [job["job_id"] for job in page["results"]] == [first.job_id]
    assert page["previous"] and not page["next"]


def test_an_unknown_status_filter_is_a_400(client, alice):
    assert_protocol_error(client.get("/api/v1/jobs/", {"status": "maybe"}, **bearer(alice)), 400, "status must be")


def test_charlie_lists_nothing_of_alices(client, alice, charlie, make_job):
    make_job()
    assert client.get("/api/v1/jobs/", **bearer(charlie)).json()["count"] == 0
    assert client.get("/api/v1/jobs/", **bearer(alice)).json()["count"] == 1


def test_without_a_token_the_list_is_empty(client, make_job):
    make_job()
    assert client.get("/api/v1/jobs/").json()["count"] == 0


def test_a_job_manager_lists_everyones(client, manager, make_job):
    make_job()
    make_job(owner=CHARLIE)
    assert client.get("/api/v1/jobs/", **bearer(manager)).json()["count"] == 2


# --- detail ---------------------------------------------------------------------------------------


def test_alice_reads_her_job_with_events_products_and_api_code(client, alice, make_job):
    job = make_job()
    detail = client.get(f"/api/v1/jobs/{job.job_id}/", **bearer(alice)).json()
    assert detail["status"] == "done"
    assert [e["message"] for e in detail["events"]] == ["job submitted", "all good"]
    assert detail["products"]["comment"] == "all good"
    (file,) = detail["products"]["files"]
    assert file["name"] == "result.txt"
    assert f"/download_products?job_id={job.job_id}" in file["url"]
    assert "file_list=result.txt" in file["url"]
    assert "disp.get_product(" in detail["api_code"]
    assert detail["page_url"].endswith(f"/jobs/{job.job_id}/")
    # The product link works for alice, with her token.
    download = client.get(file["url"], **bearer(alice))
    assert download.status_code == 200


def test_charlie_is_refused_alices_job_and_an_unknown_one_is_404(client, charlie, make_job):
    job = make_job()
    assert_protocol_error(client.get(f"/api/v1/jobs/{job.job_id}/", **bearer(charlie)), 403, "not allowed")
    assert_protocol_error(client.get(f"/api/v1/jobs/{job.job_id}/"), 403)
    assert_protocol_error(client.get(f"/api/v1/jobs/{'0' * 64}/", **bearer(charlie)), 404, "No job")


def test_a_bad_token_is_refused_with_the_protocol_error(client, make_job):
    assert_protocol_error(client.get("/api/v1/jobs/", **bearer("not-a-jwt")), 400, "malformed")
    expired = token_issue(email=ALICE, roles=["general"], hours=-1)
    assert_protocol_error(client.get("/api/v1/jobs/", **bearer(expired)), 403, "expired")


# --- creating --------------------------------------------------------------------------------------


def test_alice_creates_a_job_and_the_same_request_joins_it(client, alice):
    body = {"instrument": "empty", "product_type": "numerical", "params": {"p": 5, "colour": "blue"}}
    created = client.post("/api/v1/jobs/", body, content_type="application/json", **bearer(alice))
    assert created.status_code == 201, created.content
    job = Job.objects.get(job_id=created.json()["job_id"])
    assert (job.owner, job.product_type, job.params["p"]) == (ALICE, "numerical", 5.0)
    assert created.json()["comment"] == "Please note that argument(s) colour are not used"
    again = client.post("/api/v1/jobs/", body, content_type="application/json", **bearer(alice))
    assert again.status_code == 200
    assert again.json()["job_id"] == job.job_id


@pytest.mark.parametrize(
    ("body", "status", "text"),
    [
        ({"instrument": "no-such", "product_type": "echo"}, 400, "not installed"),
        ({"instrument": "empty", "product_type": "no-such"}, 400, "has no product"),
        ({"instrument": "empty", "product_type": "dummy", "query_type": "Real"}, 400, "needs query_type=Dummy"),
        ({"instrument": "empty", "product_type": "numerical", "params": {"p": 900}}, 400, "Parameter p wrong value"),
        ({"instrument": "empty", "product_type": "numerical", "params": {"p": 100}}, 403, "unige-hpc-full"),
        ({"instrument": "empty-development", "product_type": "echo"}, 403, "for this instrument"),
        ({"product_type": "echo"}, 400, "instrument"),
        ({"instrument": "empty", "product_type": "echo", "query_type": "Maybe"}, 400, "query_type"),
        ({"instrument": "empty", "product_type": "echo", "params": "p=5"}, 400, "params: "),
    ],
)
def test_creating_goes_through_the_protocols_validation(client, alice, body, status, text):
    response = client.post("/api/v1/jobs/", body, content_type="application/json", **bearer(alice))
    assert_protocol_error(response, status, text)
    assert not Job.objects.exists()


# --- aborting --------------------------------------------------------------------------------------


def test_alice_aborts_her_running_job_but_not_a_finished_one(client, alice, make_job):
    running = make_job(status=Status.PROGRESS)
    answer = client.post(f"/api/v1/jobs/{running.job_id}/abort/", **bearer(alice))
    assert answer.status_code == 200
    assert answer.json()["status"] == "aborted"
    assert_protocol_error(client.post(f"/api/v1/jobs/{running.job_id}/abort/", **bearer(alice)), 409, "aborted")


def test_charlie_cannot_abort_alices_job_nor_a_public_one(client, charlie, make_job):
    running = make_job(status=Status.PROGRESS)
    public = make_job(owner="", status=Status.PROGRESS)
    assert_protocol_error(client.post(f"/api/v1/jobs/{running.job_id}/abort/", **bearer(charlie)), 403)
    assert_protocol_error(client.post(f"/api/v1/jobs/{public.job_id}/abort/", **bearer(charlie)), 403)
    assert_protocol_error(client.post(f"/api/v1/jobs/{public.job_id}/abort/"), 403)
    assert set(Job.objects.values_list("status", flat=True)) == {"progress"}


# --- running again ---------------------------------------------------------------------------------


@pytest.mark.parametrize("ended", [Status.FAILED, Status.ABORTED])
def test_alice_runs_her_failed_or_aborted_job_again(
    client, alice, make_job, monkeypatch, django_capture_on_commit_callbacks, ended
):
    queued = []
    monkeypatch.setattr("jobs.scheduling.enqueue", lambda func, *args: queued.append((func, args)))
    job = make_job(status=ended)
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(f"/api/v1/jobs/{job.job_id}/run-again/", **bearer(alice))
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["status"], body["attempt"], body["message"]) == ("submitted", 2, "")
    assert [event["attempt"] for event in body["events"]][-1] == 2
    assert queued == [("jobs.tasks.job_run_task", (job.job_id, 2, 1))]


def test_only_an_ended_job_that_did_not_succeed_runs_again(client, alice, charlie, make_job):
    running, done, failed = (make_job(status=s) for s in (Status.PROGRESS, Status.DONE, Status.FAILED))
    for job in (running, done):
        assert_protocol_error(client.post(f"/api/v1/jobs/{job.job_id}/run-again/", **bearer(alice)), 409, "again")
    assert_protocol_error(client.post(f"/api/v1/jobs/{failed.job_id}/run-again/", **bearer(charlie)), 403)
    assert Job.objects.get(pk=failed.pk).attempt == 1


# --- instruments ------------------------------------------------------------------------------------


def test_instruments_come_with_products_and_typed_parameters(client, alice):
    instruments = {i["name"]: i for i in client.get("/api/v1/instruments/", **bearer(alice)).json()}
    assert "empty" in instruments
    assert "empty-development" not in instruments  # needs a role alice lacks
    products = {p["name"]: p for p in instruments["empty"]["products"]}
    assert products["dummy"]["query_types"] == ["Dummy"]
    (p,) = [par for par in products["numerical"]["parameters"] if par["name"] == "p"]
    assert (p["type"], p["units"], p["value"], p["restrictions"]["max_value"]) == ("float", "W", 10.0, 800.0)
    assert products["numerical"]["roles"] == ["general"]


def test_one_instrument_and_the_refusals(client, alice, charlie):
    assert client.get("/api/v1/instruments/empty/", **bearer(alice)).json()["name"] == "empty"
    assert_protocol_error(
        client.get("/api/v1/instruments/empty-development/", **bearer(charlie)), 403, "for this instrument"
    )
    assert_protocol_error(client.get("/api/v1/instruments/no-such/", **bearer(alice)), 404, "not installed")
