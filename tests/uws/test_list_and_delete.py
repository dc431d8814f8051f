"""GET /uws/jobs with PHASE, AFTER and LAST; DELETE (or ACTION=DELETE) archives a job."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings

from jobs.models import Job
from jobs.services import job_move
from jobs.states import Status
from tests.uws.conftest import NS, SLOW, Uws, phase_of

pytestmark = pytest.mark.django_db(transaction=True)
T0 = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def five_jobs(as_alice):
    """Jobs n0..n4 created a day apart (n4 newest): n0 pending, n1 queued, n2 executing, n3 done, n4 failed."""
    ids = []
    for n in range(5):
        job_id = as_alice.create(**SLOW, src_name=f"n{n}", PHASE="RUN" if n else "")
        Job.objects.filter(job_id=job_id).update(created_at=T0 + timedelta(days=n))
        ids.append(job_id)
    job_move(job_id=ids[2], to=Status.PROGRESS)
    job_move(job_id=ids[3], to=Status.DONE)
    job_move(job_id=ids[4], to=Status.FAILED, message="no")
    return ids


def listed(uws: Uws, valid_xml, **params) -> list[str]:
    return [ref.get("id") for ref in valid_xml(uws.get(**params)).findall("uws:jobref", NS)]


def test_the_list_shows_the_callers_jobs_newest_first(as_alice, valid_xml, five_jobs):
    root = valid_xml(as_alice.get())
    refs = root.findall("uws:jobref", NS)
    assert [ref.get("id") for ref in refs] == five_jobs[::-1]
    assert [phase_of(ref) for ref in refs] == ["ERROR", "COMPLETED", "EXECUTING", "QUEUED", "PENDING"]
    href = refs[0].get(f"{{{NS['xlink']}}}href")
    assert href == f"{settings.PUBLIC_URL}/uws/jobs/{five_jobs[4]}"
    assert refs[0].find("uws:ownerId", NS).text == "alice@example.org"


def test_phase_filters_add_up(as_alice, valid_xml, five_jobs):
    assert listed(as_alice, valid_xml, PHASE="EXECUTING") == [five_jobs[2]]
    both = as_alice.client.get("/uws/jobs?PHASE=PENDING&PHASE=COMPLETED", **as_alice.headers)
    assert [ref.get("id") for ref in valid_xml(both).findall("uws:jobref", NS)] == [five_jobs[3], five_jobs[0]]
    assert listed(as_alice, valid_xml, phase="error") == [five_jobs[4]]
    assert listed(as_alice, valid_xml, PHASE="HELD") == []


def test_after_and_last(as_alice, valid_xml, five_jobs):
    assert listed(as_alice, valid_xml, AFTER="2026-01-12T18:00:00Z") == [five_jobs[4], five_jobs[3]]
    assert listed(as_alice, valid_xml, AFTER="2026-01-12T18:00:00") == [five_jobs[4], five_jobs[3]]
    assert listed(as_alice, valid_xml, LAST="2") == [five_jobs[4], five_jobs[3]]
    assert listed(as_alice, valid_xml, LAST="0") == []
    assert listed(as_alice, valid_xml, LAST="3", PHASE="PENDING") == [five_jobs[0]]
    assert listed(as_alice, valid_xml, LAST="1", AFTER="2026-01-10T18:00:00Z") == [five_jobs[4]]


@pytest.mark.parametrize(("name", "value"), [("PHASE", "RUNNING"), ("AFTER", "yesterday"), ("LAST", "-1")])
def test_bad_filters_are_400(as_alice, name, value):
    response = as_alice.get(**{name: value})
    assert response.status_code == 400
    assert name in response.content.decode()


def test_others_jobs_are_never_listed(as_alice, as_charlie, client, manager, valid_xml, five_jobs):
    assert listed(as_charlie, valid_xml) == []
    assert listed(Uws(client, None), valid_xml) == []
    # A job manager may open anyone's job, but the UWS list is the caller's own jobs.
    assert listed(Uws(client, manager), valid_xml) == []
    assert Uws(client, manager).get(f"/{five_jobs[0]}").status_code == 200


@pytest.mark.parametrize("how", ["DELETE", "POST"])
def test_delete_archives_and_redirects_to_the_list(as_alice, valid_xml, five_jobs, how):
    done = five_jobs[3]
    response = as_alice.delete(f"/{done}") if how == "DELETE" else as_alice.post(f"/{done}", ACTION="DELETE")
    assert response.status_code == 303
    assert response["Location"] == f"{settings.PUBLIC_URL}/uws/jobs"
    assert done not in listed(as_alice, valid_xml)
    assert listed(as_alice, valid_xml, PHASE="ARCHIVED") == [done]
    assert done not in listed(as_alice, valid_xml, PHASE="COMPLETED")
    root = valid_xml(as_alice.get(f"/{done}"))
    assert phase_of(root) == "ARCHIVED"
    # The record and its results stay (ARCHIVED keeps metadata).
    assert as_alice.get(f"/{done}/results/result").status_code == 200
    assert as_alice.delete(f"/{done}").status_code == 303, "deleting twice is harmless"


def test_deleting_a_running_job_aborts_it(as_alice, valid_xml, five_jobs):
    running = five_jobs[2]
    assert as_alice.delete(f"/{running}").status_code == 303
    job = Job.objects.get(job_id=running)
    assert job.status == Status.ABORTED
    assert job.archived_at is not None
    assert valid_xml(as_alice.get(f"/{running}")).find("uws:jobInfo/archivedPhase", NS).text == "ABORTED"


def test_post_to_a_job_needs_action_delete(as_alice, five_jobs):
    response = as_alice.post(f"/{five_jobs[0]}", ACTION="KEEP")
    assert response.status_code == 400
    assert Job.objects.get(job_id=five_jobs[0]).archived_at is None
