"""resend_notifications --job: deliveries that did not arrive go out again through deliveries_resend."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from notifications.models import Delivery
from notifications.vocabulary import Outcome

pytestmark = pytest.mark.django_db


@pytest.fixture
def deliveries(make_job):
    job = make_job()
    failed = Delivery.objects.create(
        job=job, event="done", channel="email", recipient="alice@example.org", outcome=Outcome.FAILED, error="down"
    )
    sent = Delivery.objects.create(job=job, event="done", channel="matrix", recipient="!room:x", outcome=Outcome.SENT)
    skipped = Delivery.objects.create(
        job=job, event="submitted", channel="email", recipient="alice@example.org", outcome=Outcome.SKIPPED
    )
    return job, failed, sent, skipped


def resend(*args: str) -> str:
    out = io.StringIO()
    call_command("resend_notifications", *args, "--no-progress", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_failed_deliveries_are_queued_again_and_others_left_alone(deliveries, django_capture_on_commit_callbacks):
    job, failed, _, skipped = deliveries
    with django_capture_on_commit_callbacks() as queued:
        output = resend("--job", job.job_id[:10])
    failed.refresh_from_db()
    assert (failed.outcome, failed.error) == (Outcome.PENDING, "")
    assert len(queued) == 1  # one send task, after commit
    assert Delivery.objects.count() == 3
    assert "1 deliveries queued" in output
    skipped.refresh_from_db()
    assert skipped.outcome == Outcome.SKIPPED


def test_all_also_sends_a_new_copy_of_what_was_sent(deliveries):
    job, _, sent, _ = deliveries
    output = resend("--job", job.job_id, "--all")
    assert "2 deliveries queued" in output
    copy = Delivery.objects.exclude(pk__in=[d.pk for d in deliveries[1:]]).get()
    assert (copy.channel, copy.recipient, copy.reason) == ("matrix", "!room:x", f"resent from delivery {sent.pk}")


def test_nothing_to_resend_is_said_plainly(make_job):
    job = make_job()
    assert "no delivery to resend" in resend("--job", job.job_id)


@pytest.mark.parametrize(("reference", "error"), [("0" * 64, "no job"), ("abc", "at least its first 8")])
def test_an_unknown_job_is_an_error(reference, error):
    with pytest.raises(CommandError, match=error):
        resend("--job", reference)


def test_the_admin_action_resends_too(admin_client, deliveries):
    job, failed, _, _ = deliveries
    response = admin_client.post(
        "/admin/jobs/job/", {"action": "resend_notifications", "_selected_action": [job.pk]}, follow=True
    )
    assert "1 delivery(ies) queued" in response.content.decode()
    failed.refresh_from_db()
    assert failed.outcome == Outcome.PENDING
