"""Resending: one service, deliveries_resend, behind the delivery admin, the job admin and the command."""

from __future__ import annotations

import io
from importlib import import_module

import pytest
from django.core.management import call_command

from jobs.services import job_get_or_create
from notifications.deliveries import deliveries_resend
from notifications.models import Delivery
from notifications.vocabulary import Outcome
from tests.notifications.conftest import ALICE, ROOM

pytestmark = pytest.mark.django_db

CALLERS = ("notifications.admin", "notifications.management.commands.resend_notifications")


@pytest.fixture
def quiet(settings):
    """No channel configured: jobs plan no deliveries of their own, the tests make them."""
    settings.EMAIL_HOST = ""
    settings.MATRIX_HOMESERVER = ""


def new_job(n: int):
    job, _ = job_get_or_create(owner=ALICE, instrument="empty", product_type="dummy", params={"n": n})
    return job


def delivery(job, outcome: str, *, channel: str = "email", recipient: str = ALICE) -> Delivery:
    return Delivery.objects.create(job=job, event="done", channel=channel, recipient=recipient, outcome=outcome)


@pytest.fixture
def story(quiet):
    """Alice's job with a delivery of each outcome, and another job with a failed one."""
    job = new_job(1)
    rows = {outcome: delivery(job, outcome, recipient=f"{outcome}@example.org") for outcome in Outcome.values}
    other = delivery(new_job(2), Outcome.FAILED)
    return job, rows, other


def unchanged(row: Delivery) -> bool:
    before = (row.outcome, row.updated_at)
    row.refresh_from_db()
    return (row.outcome, row.updated_at) == before


def test_by_job_it_resends_what_did_not_arrive_and_only_of_that_job(story, django_capture_on_commit_callbacks):
    job, rows, other = story
    with django_capture_on_commit_callbacks() as queued:
        resent = deliveries_resend(job_ids=[job.job_id])
    assert [d.pk for d in resent] == [rows[Outcome.PENDING].pk, rows[Outcome.FAILED].pk]  # the same rows, oldest first
    assert len(queued) == 2
    assert Delivery.objects.filter(pk__in=[d.pk for d in resent], outcome=Outcome.PENDING).count() == 2
    assert Delivery.objects.count() == len(Outcome.values) + 1
    assert all(unchanged(rows[o]) for o in (Outcome.SENT, Outcome.SKIPPED, Outcome.REFUSED))
    assert unchanged(other)


def test_by_job_with_include_sent_a_sent_delivery_gets_a_new_copy(story):
    job, rows, _ = story
    resent = deliveries_resend(job_ids=[job.job_id], include_sent=True)
    assert [d.recipient for d in resent] == ["pending@example.org", "sent@example.org", "failed@example.org"]
    copy = resent[1]
    assert copy.pk not in {row.pk for row in rows.values()}
    assert (copy.outcome, copy.reason) == (Outcome.PENDING, f"resent from delivery {rows[Outcome.SENT].pk}")
    assert unchanged(rows[Outcome.SENT])
    assert unchanged(rows[Outcome.SKIPPED]) and unchanged(rows[Outcome.REFUSED])


def test_by_id_it_resends_exactly_the_chosen_ones_whatever_became_of_them(story):
    _, rows, other = story
    chosen = [rows[Outcome.SKIPPED].pk, other.pk]
    resent = deliveries_resend(delivery_ids=chosen)
    assert [d.reason for d in resent] == [f"resent from delivery {rows[Outcome.SKIPPED].pk}", ""]
    assert resent[1].pk == other.pk and resent[1].outcome == Outcome.PENDING
    assert all(unchanged(rows[o]) for o in (Outcome.FAILED, Outcome.PENDING, Outcome.SENT))


def test_progress_hears_of_each_delivery(story):
    job, _, _ = story
    seen: list[tuple[int, int]] = []
    deliveries_resend(job_ids=[job.job_id], progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 2), (2, 2)]


@pytest.mark.parametrize(
    "arguments",
    [{}, {"delivery_ids": [1], "job_ids": ["x"]}, {"delivery_ids": [1], "include_sent": True}],
    ids=["neither", "both", "include_sent_with_ids"],
)
def test_it_needs_one_clear_choice(arguments):
    with pytest.raises(ValueError):
        deliveries_resend(**arguments)


@pytest.fixture
def calls(monkeypatch) -> list[dict]:
    """The calls that the admin actions and the command make to deliveries_resend (which still does its work)."""
    seen: list[dict] = []

    def spy(**kwargs):
        seen.append(kwargs)
        return deliveries_resend(**kwargs)

    for caller in CALLERS:
        module = import_module(caller)
        assert module.deliveries_resend is deliveries_resend
        monkeypatch.setattr(module, "deliveries_resend", spy)
    return seen


def test_the_delivery_admin_the_job_admin_and_the_command_all_resend_through_it(admin_client, quiet, calls):
    job = new_job(1)
    failed = delivery(job, Outcome.FAILED, channel="matrix", recipient=ROOM)

    answer = admin_client.post(
        "/admin/notifications/delivery/", {"action": "resend", "_selected_action": [failed.pk]}, follow=True
    )
    assert "1 deliveries queued to be sent again." in answer.text
    assert calls == [{"delivery_ids": [failed.pk]}]

    Delivery.objects.filter(pk=failed.pk).update(outcome=Outcome.FAILED)
    answer = admin_client.post(
        "/admin/jobs/job/", {"action": "resend_notifications", "_selected_action": [job.pk]}, follow=True
    )
    assert "1 delivery(ies) queued to be sent again." in answer.text
    assert calls[1] == {"job_ids": [job.job_id]}

    Delivery.objects.filter(pk=failed.pk).update(outcome=Outcome.FAILED)
    out = io.StringIO()
    call_command("resend_notifications", "--job", job.job_id[:8], "--all", stdout=out, stderr=io.StringIO())
    assert f"matrix done to {ROOM}: queued as #{failed.pk}" in out.getvalue()
    assert len(calls) == 3
    assert (calls[2]["job_ids"], calls[2]["include_sent"]) == ([job.job_id], True)
    failed.refresh_from_db()
    assert failed.outcome == Outcome.PENDING
