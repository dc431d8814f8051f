"""Every UWS document we serve is valid against the UWS 1.1 schema, in every phase."""

from __future__ import annotations

import pytest
import xmlschema

from instruments.base import Products
from jobs.services import job_get_or_create, job_move
from jobs.services.records import job_set_archived
from jobs.services.running import job_finish
from jobs.states import Status
from tests.uws.conftest import NS, UWS_NS, Uws, phase_of

pytestmark = pytest.mark.django_db


def make_job(*, status: str, owner: str = "alice@example.org", **params):
    job, _ = job_get_or_create(
        owner=owner,
        instrument="empty",
        product_type="echo",
        params={"src_name": "Crab", "n": 3, "window": [1.5, 2.5], **params},
        status=Status.PENDING if status == Status.PENDING else Status.SUBMITTED,
        run_id="my-run" if status == Status.PENDING else "",
    )
    if status in (Status.PROGRESS, Status.DONE):
        job_move(job_id=job.job_id, to=Status.PROGRESS)
    if status == Status.DONE:
        job_finish(job_id=job.job_id, products=Products(text_product_list=[], files={"lc.fits": b"FITS"}))
    if status in (Status.FAILED, Status.ABORTED):
        job_move(job_id=job.job_id, to=status, message="the backend said <no> & stopped")
    job.refresh_from_db()
    return job


@pytest.mark.parametrize(
    ("status", "phase"),
    [
        (Status.PENDING, "PENDING"),
        (Status.SUBMITTED, "QUEUED"),
        (Status.PROGRESS, "EXECUTING"),
        (Status.DONE, "COMPLETED"),
        (Status.FAILED, "ERROR"),
        (Status.ABORTED, "ABORTED"),
    ],
)
def test_it_renders_a_valid_job_in_every_phase(as_alice, valid_xml, status, phase):
    job = make_job(status=status)
    root = valid_xml(as_alice.get(f"/{job.job_id}"))
    assert root.tag == f"{{{UWS_NS}}}job"
    assert root.get("version") == "1.1"
    assert phase_of(root) == phase
    assert root.find("uws:jobId", NS).text == job.job_id
    assert root.find("uws:ownerId", NS).text == "alice@example.org"
    names = [child.tag.split("}")[1] for child in root]
    for element in ("creationTime", "startTime", "endTime", "executionDuration", "destruction", "quote"):
        assert element in names
    error = ["errorSummary"] if status in (Status.FAILED, Status.ABORTED) else []
    assert names[names.index("parameters") :] == ["parameters", "results", *error, "jobInfo"]
    assert root.find("uws:jobInfo/status", NS).text == status


def test_the_pending_job_carries_its_run_id_and_parameters(as_alice, valid_xml):
    job = make_job(status=Status.PENDING)
    root = valid_xml(as_alice.get(f"/{job.job_id}"))
    assert root.find("uws:runId", NS).text == "my-run"
    params = {p.get("id"): p.text for p in root.findall("uws:parameters/uws:parameter", NS)}
    assert params["instrument"] == "empty"
    assert params["product_type"] == "echo"
    assert params["src_name"] == "Crab"
    assert params["window"] == "[1.5, 2.5]"
    assert root.find("uws:startTime", NS).get(f"{{{NS['xsi']}}}nil") == "true"


def test_an_error_has_a_summary_with_its_escaped_message(as_alice, valid_xml):
    job = make_job(status=Status.FAILED)
    root = valid_xml(as_alice.get(f"/{job.job_id}"))
    summary = root.find("uws:errorSummary", NS)
    assert summary.get("type") == "fatal"
    assert summary.get("hasDetail") == "true"
    assert summary.find("uws:message", NS).text == "the backend said <no> & stopped"


def test_a_completed_job_lists_the_main_result_and_its_files(as_alice, valid_xml):
    job = make_job(status=Status.DONE)
    root = valid_xml(as_alice.get(f"/{job.job_id}/results"))
    results = {r.get("id"): r for r in root.findall("uws:result", NS)}
    assert set(results) == {"result", "lc.fits"}
    href = f"{{{NS['xlink']}}}href"
    assert results["result"].get(href).endswith(f"/uws/jobs/{job.job_id}/results/result")
    assert results["lc.fits"].get(href).endswith(f"/uws/jobs/{job.job_id}/results/files/lc.fits")
    assert results["lc.fits"].get("size") == "4"


def test_a_public_job_has_a_nil_owner(client, valid_xml):
    job = make_job(status=Status.SUBMITTED, owner="")
    root = valid_xml(Uws(client, None).get(f"/{job.job_id}"))
    owner = root.find("uws:ownerId", NS)
    assert owner.get(f"{{{NS['xsi']}}}nil") == "true"


def test_an_archived_job_keeps_its_former_phase_in_job_info(as_alice, valid_xml):
    job = make_job(status=Status.DONE)
    job_set_archived(job_id=job.job_id, archived=True)
    root = valid_xml(as_alice.get(f"/{job.job_id}"))
    assert phase_of(root) == "ARCHIVED"
    assert root.find("uws:jobInfo/archivedPhase", NS).text == "COMPLETED"


def test_the_job_list_and_parameters_are_valid(as_alice, valid_xml):
    for status in (Status.PENDING, Status.DONE):
        make_job(status=status, variant=status)
    root = valid_xml(as_alice.get())
    assert root.tag == f"{{{UWS_NS}}}jobs"
    assert root.get("version") == "1.1"
    assert len(root.findall("uws:jobref", NS)) == 2
    job = make_job(status=Status.PENDING)
    valid_xml(as_alice.get(f"/{job.job_id}/parameters"))


def test_the_validator_does_reject_a_wrong_document(uws_schema):
    # The schema check above can fail: an unknown phase is refused.
    wrong = (
        f'<uws:jobs xmlns:uws="{UWS_NS}" version="1.1"><uws:jobref id="x">'
        "<uws:phase>RUNNING</uws:phase></uws:jobref></uws:jobs>"
    )
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        uws_schema.validate(wrong)


def test_control_characters_never_break_the_document(as_alice, valid_xml):
    job = make_job(status=Status.PENDING, src_name="Crab\x07\x1b[31m")
    root = valid_xml(as_alice.get(f"/{job.job_id}"))
    values = {p.get("id"): p.text for p in root.findall("uws:parameters/uws:parameter", NS)}
    assert values["src_name"] == "Crab\ufffd\ufffd[31m"
