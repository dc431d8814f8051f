"""Planning, sending, retrying and resending deliveries, with a fake transport."""

from __future__ import annotations

import pytest

from jobs.models import JobEvent
from jobs.signals import job_event_recorded
from notifications.deliveries import delivery_resend, delivery_send, notifications_plan
from notifications.models import Delivery, MatrixRoom, NotificationSettings
from notifications.rooms import room_record_state
from notifications.transports import TransportError
from tests.notifications.conftest import ALICE, ROOM

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("configured")]


def notification_events(job) -> list[dict]:
    return [event.data for event in job.events.filter(kind=JobEvent.Kind.NOTIFICATION)]


def repeat_status_event(job, django_capture_on_commit_callbacks) -> JobEvent:
    """A second status event for the job, as a repeated backend report would record."""
    job.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        event = JobEvent.objects.create(job=job, kind=JobEvent.Kind.STATUS, status=job.status, message="again")
        job_event_recorded.send(sender=JobEvent, event=event)
    return event


def test_it_sends_done_by_email_and_matrix_and_records_the_outcomes(submit, move, transport):
    job = submit()
    assert transport.sent == []  # submitted notices are off by default
    move(job, "done")
    assert sorted((channel, recipient) for channel, recipient, _, _ in transport.sent) == [
        ("email", ALICE),
        ("matrix", ROOM),
    ]
    assert sorted(Delivery.objects.values_list("channel", "event", "outcome", "attempts")) == [
        ("email", "done", "sent", 1),
        ("matrix", "done", "sent", 1),
    ]
    events = sorted(notification_events(job), key=lambda data: data["channel"])
    email, matrix = events
    assert email == {
        "channel": "email",
        "event": "done",
        "outcome": "sent",
        "status_text": "email sent",
        "delivery_id": Delivery.objects.get(channel="email").pk,
    }
    assert matrix["status_text"] == "matrix message sent"
    job.refresh_from_db()
    assert job.status == "done"


def test_public_jobs_send_nothing(submit, move, transport):
    job = submit(owner="", claims={"mssub": True, "mxsub": True, "mxroomid": ROOM})
    move(job, "failed", "backend exploded")
    assert transport.tries == []
    assert Delivery.objects.count() == 0
    assert notification_events(job) == []


def test_submitted_is_sent_when_asked_and_at_most_once_per_interval(
    submit, transport, django_capture_on_commit_callbacks
):
    job = submit(claims={"mssub": True, "intsub": 3600})
    assert [(c, r) for c, r, _, _ in transport.sent] == [("email", ALICE)]
    repeat_status_event(job, django_capture_on_commit_callbacks)
    assert len(transport.sent) == 1
    skipped = Delivery.objects.get(outcome="skipped")
    assert skipped.event == "submitted"
    assert notification_events(job)[-1]["status_text"].startswith("email not sent: a submitted notice was sent")


def test_the_owner_asking_again_notifies_submitted_again_once_the_interval_passed(
    submit, move, transport, django_capture_on_commit_callbacks
):
    from jobs.services.records import job_record_resubmitted

    job = submit(claims={"mssub": True, "intsub": 3600, "msdone": False})
    move(job, "progress")  # the job runs: its status events now say progress
    with django_capture_on_commit_callbacks(execute=True):
        job_record_resubmitted(job_id=job.job_id)
    assert len(transport.sent) == 1  # within the hour: skipped
    assert Delivery.objects.filter(event="submitted", outcome="skipped").count() == 1

    Delivery.objects.filter(event="submitted", outcome="sent").update(created_at="2000-01-01T00:00:00Z")
    with django_capture_on_commit_callbacks(execute=True):
        job_record_resubmitted(job_id=job.job_id)
    assert [(c, r) for c, r, _, _ in transport.sent] == [("email", ALICE), ("email", ALICE)]


def test_a_repeated_done_is_refused_and_recorded(submit, move, transport, django_capture_on_commit_callbacks):
    job = submit(claims={})
    move(job, "done")
    repeat_status_event(job, django_capture_on_commit_callbacks)
    assert len(transport.sent) == 1
    refused = Delivery.objects.get(outcome="refused")
    assert refused.reason == "done was already notified for this job"
    assert notification_events(job)[-1] | {"delivery_id": None} == {
        "channel": "email",
        "event": "done",
        "outcome": "refused",
        "status_text": "email not sent: done was already notified for this job",
        "delivery_id": None,
    }


def test_planning_an_event_twice_makes_no_second_delivery(submit, move, transport):
    job = submit(claims={})
    move(job, "done")
    done_event = job.events.get(kind="status", status="done")
    assert notifications_plan(event_id=done_event.pk) == []
    assert Delivery.objects.count() == 1
    assert len(transport.sent) == 1


def test_a_transient_failure_is_retried_with_the_same_transaction_id(submit, move, transport):
    transport.failures = [TransportError("homeserver unreachable")]
    job = submit(claims={"mxroomid": ROOM, "msdone": False})
    move(job, "done")
    delivery = Delivery.objects.get()
    assert delivery.outcome == "sent"
    assert delivery.attempts == 2
    assert transport.tries == [str(delivery.txn_id)] * 2


def test_a_permanent_failure_is_not_retried_and_never_changes_the_job(submit, move, transport):
    transport.failures = [TransportError("cannot join: M_FORBIDDEN", permanent=True, room_state="failed")]
    job = submit(claims={"mxroomid": ROOM, "msdone": False})
    move(job, "done")
    delivery = Delivery.objects.get()
    assert (delivery.outcome, delivery.attempts) == ("failed", 1)
    assert "M_FORBIDDEN" in delivery.error
    room = MatrixRoom.objects.get(room_id=ROOM)
    assert room.state == "failed"
    assert "M_FORBIDDEN" in room.last_error
    assert notification_events(job)[-1]["status_text"] == "sending message via matrix failed"
    job.refresh_from_db()
    assert job.status == "done"


def test_attempts_are_bounded(submit, move, transport, settings):
    settings.NOTIFY_MAX_ATTEMPTS = 2
    transport.failures = [TransportError("down")] * 5
    job = submit(claims={})
    move(job, "done")
    delivery = Delivery.objects.get(job=job)
    assert (delivery.outcome, delivery.attempts) == ("failed", 2)


def test_sending_is_idempotent(submit, move, transport):
    job = submit(claims={})
    move(job, "done")
    delivery = Delivery.objects.get()
    assert delivery_send(delivery_id=delivery.pk) == "sent"
    assert len(transport.sent) == 1


def test_resend_of_a_failed_delivery_reuses_the_row_and_its_transaction_id(
    submit, move, transport, django_capture_on_commit_callbacks
):
    transport.failures = [TransportError("down", permanent=True)]
    job = submit(claims={"mxroomid": ROOM, "msdone": False})
    move(job, "done")
    failed = Delivery.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        resent = delivery_resend(delivery_id=failed.pk)
    assert resent.pk == failed.pk
    resent.refresh_from_db()
    assert resent.outcome == "sent"
    assert transport.tries == [str(failed.txn_id)] * 2
    assert notification_events(job)[-1]["outcome"] == "sent"


def test_resend_of_a_sent_delivery_sends_a_new_copy(submit, move, transport, django_capture_on_commit_callbacks):
    job = submit(claims={})
    move(job, "done")
    sent = Delivery.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        copy = delivery_resend(delivery_id=sent.pk)
    assert copy.pk != sent.pk
    assert copy.txn_id != sent.txn_id
    assert len(transport.sent) == 2
    assert Delivery.objects.filter(outcome="sent").count() == 2


def test_site_copies_and_incidents_stay_out_of_the_jobs_history(submit, move, transport, settings):
    settings.MATRIX_BCC_ROOMS = ["!bcc:localhost"]
    settings.MATRIX_INCIDENT_ROOMS = ["!incident:localhost"]
    job = submit(claims={"msfail": False, "mxfail": False})
    move(job, "failed", "backend exploded")
    assert [(c, r) for c, r, _, _ in transport.sent] == [("matrix", "!incident:localhost")]
    assert Delivery.objects.get().role == "incident"
    assert notification_events(job) == []


def test_saved_preferences_apply_when_the_token_says_nothing(submit, move, transport, django_user_model):
    user = django_user_model.objects.create(username=ALICE)
    NotificationSettings.objects.create(user=user, email_done=False, matrix_room_id="!saved:localhost")
    job = submit(claims={})
    move(job, "done")
    assert [(c, r) for c, r, _, _ in transport.sent] == [("matrix", "!saved:localhost")]


def test_a_broken_notification_setup_never_breaks_the_jobs_request(submit, move, monkeypatch):
    def explode(**kwargs):
        raise RuntimeError("broker down")

    monkeypatch.setattr("notifications.handlers.notifications_enqueue_for_event", explode)
    job = submit(claims={})
    assert move(job, "done").status == "done"


def test_the_bots_room_state_and_a_workers_sent_message_do_not_undo_each_other(submit, move, transport, monkeypatch):
    """The bot reads a room, a worker notes a message sent there, then the bot writes its state."""
    MatrixRoom.objects.create(room_id=ROOM, state="joined")
    read_by_the_bot = MatrixRoom.objects.get(room_id=ROOM)
    move(submit(claims={"mxroomid": ROOM, "msdone": False}), "done")
    assert MatrixRoom.objects.get(room_id=ROOM).last_message_at is not None

    monkeypatch.setattr(MatrixRoom.objects, "get_or_create", lambda **_: (read_by_the_bot, False))
    room_record_state(room_id=ROOM, state="left", error="kicked")
    room = MatrixRoom.objects.get(room_id=ROOM)
    assert (room.state, room.last_error) == ("left", "kicked")
    assert room.last_message_at is not None


def test_a_room_the_bot_sees_unchanged_is_not_written():
    MatrixRoom.objects.create(room_id=ROOM, state="joined")
    before = MatrixRoom.objects.get(room_id=ROOM).updated_at
    room_record_state(room_id=ROOM, state="joined")
    assert MatrixRoom.objects.get(room_id=ROOM).updated_at == before


def test_each_attempt_that_fails_is_told_and_done_is_told_once_per_job(
    submit, move, transport, django_capture_on_commit_callbacks
):
    from jobs.services.records import job_attempt_again

    job = submit(claims={"mxroomid": ROOM, "msfail": True, "mxfail": True})
    for attempt in (1, 2):
        move(job, "progress")
        move(job, "failed", f"attempt {attempt} failed")
        with django_capture_on_commit_callbacks(execute=True):
            job_attempt_again(job_id=job.job_id)
    move(job, "progress")
    move(job, "done")
    told = sorted((d.event, d.channel, d.outcome) for d in Delivery.objects.exclude(event="submitted"))
    assert told == [
        ("done", "email", "sent"),
        ("done", "matrix", "sent"),
        ("failed", "email", "sent"),
        ("failed", "email", "sent"),
        ("failed", "matrix", "sent"),
        ("failed", "matrix", "sent"),
    ]
