"""The one permission gate per job lookup: alice sees hers, charlie nothing of alice's, staff all."""

import pytest

from dispatcher_site.auth import Caller
from jobs.exceptions import JobForbidden, JobNotFound
from jobs.selectors import job_get_for_user, jobs_for_user
from jobs.services import job_get_or_create

pytestmark = pytest.mark.django_db

alice = Caller(sub="alice@example.org", email="alice@example.org", roles=frozenset({"general"}))
bob = Caller(sub="bob@example.org", email="bob@example.org", roles=frozenset({"general"}))
charlie = Caller(sub="charlie@example.org", email="charlie@example.org", roles=frozenset({"general"}))
staff = Caller(sub="staff@example.org", roles=frozenset({"general", "job manager"}))
public = Caller.public()


def make_job(owner: str, session_id: str = "SESSION00000000A", **params):
    job, _ = job_get_or_create(
        owner=owner, instrument="empty", product_type="dummy", params=params or {"p": 1}, session_id=session_id
    )
    return job


def test_the_owner_gets_their_job():
    job = make_job(alice.sub)
    assert job_get_for_user(job_id=job.job_id, caller=alice) == job


def test_the_owner_gets_it_from_any_session():
    # One person may poll from several oda-api instances, each with its own session.
    job = make_job(alice.sub)
    assert job_get_for_user(job_id=job.job_id, caller=alice, session_id="OTHERSESSION0000") == job


@pytest.mark.parametrize("outsider", [charlie, public], ids=["charlie", "public"])
def test_an_outsider_is_refused_without_learning_anything(outsider):
    job = make_job(alice.sub)
    with pytest.raises(JobForbidden) as caught:
        job_get_for_user(job_id=job.job_id, caller=outsider, session_id=job.session_id)
    error = caught.value
    assert error.status_code == 403
    message = str(error)
    assert job.job_id not in message and "alice" not in message and "empty" not in message


def test_a_job_manager_sees_everyones_job():
    job = make_job(alice.sub)
    assert job_get_for_user(job_id=job.job_id, caller=staff) == job


def test_a_missing_job_is_not_found():
    with pytest.raises(JobNotFound) as caught:
        job_get_for_user(job_id="0" * 64, caller=alice)
    assert caught.value.status_code == 404


def test_a_public_job_is_seen_by_anyone_with_its_id():
    job = make_job("")
    assert job_get_for_user(job_id=job.job_id, caller=public) == job
    assert job_get_for_user(job_id=job.job_id, caller=charlie) == job


def test_a_public_job_with_the_same_session_is_seen():
    job = make_job("", session_id="PUBLICSESSION001")
    assert job_get_for_user(job_id=job.job_id, caller=public, session_id="PUBLICSESSION001") == job


def test_a_public_job_with_another_session_is_refused():
    job = make_job("", session_id="PUBLICSESSION001")
    with pytest.raises(JobForbidden):
        job_get_for_user(job_id=job.job_id, caller=public, session_id="SOMEONEELSE00001")


def test_a_job_manager_is_not_held_by_the_session():
    job = make_job("", session_id="PUBLICSESSION001")
    assert job_get_for_user(job_id=job.job_id, caller=staff, session_id="SOMEONEELSE00001") == job


def test_listing_shows_only_ones_own_jobs():
    mine = [make_job(alice.sub, p=1), make_job(alice.sub, p=2)]
    make_job(bob.sub, p=1)
    make_job("", p=1)
    assert set(jobs_for_user(caller=alice)) == set(mine)
    assert list(jobs_for_user(caller=charlie)) == []


def test_public_callers_list_nothing():
    make_job("", p=1)
    assert list(jobs_for_user(caller=public)) == []


def test_a_job_manager_lists_all_unless_asking_for_their_own():
    jobs = {make_job(alice.sub), make_job(bob.sub), make_job("")}
    assert set(jobs_for_user(caller=staff)) == jobs
    assert list(jobs_for_user(caller=staff, only_own=True)) == []


def test_listing_is_newest_first_and_can_be_limited_to_recent_days():
    from datetime import timedelta

    from django.utils import timezone

    from jobs.models import Job

    old, new = make_job(alice.sub, p=1), make_job(alice.sub, p=2)
    Job.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    assert list(jobs_for_user(caller=alice)) == [new, old]
    assert list(jobs_for_user(caller=alice, recent_days=3)) == [new]
