"""The one access gate per job lookup: alice sees hers, charlie nothing of alice's, staff all."""

from datetime import timedelta

import pytest
from django.utils import timezone

from dispatcher_site.auth import Caller
from jobs.access import JobFilter, Scope, Use, job_access, jobs_listed
from jobs.errors import JobForbidden, JobNotFound
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
    assert job_access(caller=alice, job_id=job.job_id) == job


def test_the_owner_gets_it_from_any_session():
    # One person may poll from several oda-api instances, each with its own session.
    job = make_job(alice.sub)
    assert job_access(caller=alice, job_id=job.job_id, session_id="OTHERSESSION0000") == job


@pytest.mark.parametrize("outsider", [charlie, public], ids=["charlie", "public"])
def test_an_outsider_is_refused_without_learning_anything(outsider):
    job = make_job(alice.sub)
    with pytest.raises(JobForbidden) as caught:
        job_access(caller=outsider, job_id=job.job_id, session_id=job.session_id)
    error = caught.value
    assert error.status_code == 403
    message = str(error)
    assert job.job_id not in message and "alice" not in message and "empty" not in message


def test_a_job_manager_sees_everyones_job():
    job = make_job(alice.sub)
    assert job_access(caller=staff, job_id=job.job_id) == job


def test_a_missing_job_is_not_found():
    with pytest.raises(JobNotFound) as caught:
        job_access(caller=alice, job_id="0" * 64)
    assert caught.value.status_code == 404


def test_a_public_job_is_seen_by_anyone_with_its_id():
    job = make_job("")
    assert job_access(caller=public, job_id=job.job_id) == job
    assert job_access(caller=charlie, job_id=job.job_id) == job


def test_a_public_job_with_the_same_session_is_seen():
    job = make_job("", session_id="PUBLICSESSION001")
    assert job_access(caller=public, job_id=job.job_id, session_id="PUBLICSESSION001") == job


def test_a_public_job_with_another_session_is_refused():
    job = make_job("", session_id="PUBLICSESSION001")
    with pytest.raises(JobForbidden):
        job_access(caller=public, job_id=job.job_id, session_id="SOMEONEELSE00001")


def test_a_job_manager_is_not_held_by_the_session():
    job = make_job("", session_id="PUBLICSESSION001")
    assert job_access(caller=staff, job_id=job.job_id, session_id="SOMEONEELSE00001") == job


def test_listing_shows_only_ones_own_jobs():
    mine = [make_job(alice.sub, p=1), make_job(alice.sub, p=2)]
    make_job(bob.sub, p=1)
    make_job("", p=1)
    assert set(jobs_listed(caller=alice)) == set(mine)
    assert list(jobs_listed(caller=charlie)) == []


def test_public_callers_list_nothing():
    make_job("", p=1)
    assert list(jobs_listed(caller=public)) == []


def test_a_job_manager_lists_all_unless_asking_for_their_own():
    jobs = {make_job(alice.sub), make_job(bob.sub), make_job("")}
    assert set(jobs_listed(caller=staff)) == jobs
    assert list(jobs_listed(caller=staff, scope=Scope.OWN)) == []


def test_listing_is_newest_first_and_can_be_limited_to_recent_days():
    from jobs.models import Job

    old, new = make_job(alice.sub, p=1), make_job(alice.sub, p=2)
    Job.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    assert list(jobs_listed(caller=alice)) == [new, old]
    assert list(jobs_listed(caller=alice, filters=JobFilter(created_after=timezone.now() - timedelta(days=3)))) == [new]


def test_only_a_job_manager_lists_everyones_jobs():
    from dispatcher_site.auth import RolesMissing

    jobs = {make_job(alice.sub), make_job(bob.sub)}
    assert set(jobs_listed(caller=staff, scope=Scope.EVERYONE)) == jobs
    with pytest.raises(RolesMissing):
        jobs_listed(caller=alice, scope=Scope.EVERYONE)


def test_lists_filter_by_status_instrument_and_archived():
    from jobs.services.records import job_set_archived

    kept, archived = make_job(alice.sub, p=1), make_job(alice.sub, p=2)
    job_set_archived(job_id=archived.job_id, archived=True)
    assert list(jobs_listed(caller=alice, filters=JobFilter(archived=False))) == [kept]
    assert list(jobs_listed(caller=alice, filters=JobFilter(archived=True))) == [archived]
    assert list(jobs_listed(caller=alice, filters=JobFilter(statuses=frozenset({"done"})))) == []
    either = JobFilter(statuses=frozenset({"done"}), archived=False, or_archived=True)
    assert list(jobs_listed(caller=alice, filters=either)) == [archived]
    assert list(jobs_listed(caller=alice, filters=JobFilter(instrument="other"))) == []


def test_a_staff_session_reads_every_job_but_a_plain_session_does_not():
    job = make_job(alice.sub)
    staff_session = Caller(sub="admin", is_staff=True)
    assert job_access(caller=staff_session, job_id=job.job_id) == job
    with pytest.raises(JobForbidden):
        job_access(caller=staff_session, job_id=job.job_id, use=Use.CONTROL)
    with pytest.raises(JobForbidden):
        job_access(caller=Caller(sub="admin"), job_id=job.job_id)


def test_a_signed_link_reads_its_job_only():
    from jobs.errors import LinkRefused
    from jobs.signing import job_link_sign

    job, other = make_job(alice.sub, p=1), make_job(alice.sub, p=2)
    link = job_link_sign(job.job_id)
    assert job_access(caller=public, job_id=job.job_id, link=link) == job
    with pytest.raises(LinkRefused):
        job_access(caller=public, job_id=other.job_id, link=link)
    with pytest.raises(LinkRefused):
        job_access(caller=public, job_id=job.job_id, link=link, use=Use.CONTROL)


def test_a_broken_link_is_refused_even_to_the_owner():
    from jobs.errors import LinkRefused

    job = make_job(alice.sub)
    with pytest.raises(LinkRefused):
        job_access(caller=alice, job_id=job.job_id, link="1abc:forged")


def test_control_is_for_the_owner_and_job_managers_never_for_public_callers():
    mine, shared = make_job(alice.sub), make_job("")
    assert job_access(caller=alice, job_id=mine.job_id, use=Use.CONTROL) == mine
    assert job_access(caller=staff, job_id=shared.job_id, use=Use.CONTROL) == shared
    for outsider, job in [(charlie, mine), (public, shared), (charlie, shared)]:
        with pytest.raises(JobForbidden):
            job_access(caller=outsider, job_id=job.job_id, use=Use.CONTROL)


def test_a_report_needs_the_jobs_call_back_signature():
    from jobs.errors import LinkRefused
    from jobs.signing import callback_signature

    job, other = make_job(alice.sub, p=1), make_job(alice.sub, p=2)
    assert job_access(caller=public, job_id=job.job_id, use=Use.REPORT, signature=callback_signature(job.job_id)) == job
    for signature in (None, "forged", callback_signature(other.job_id)):
        with pytest.raises(LinkRefused):
            job_access(caller=public, job_id=job.job_id, use=Use.REPORT, signature=signature)
