"""Staff see channels, rooms and deliveries, and resend from the admin."""

from __future__ import annotations

import pytest

from notifications.admin import DeliveryInline
from notifications.models import Delivery, MatrixRoom
from notifications.transports import TransportError
from tests.notifications.conftest import ROOM

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("configured")]


@pytest.fixture
def staff(client, django_user_model):
    user = django_user_model.objects.create_superuser("staff", "staff@example.org", "pw")
    client.force_login(user)
    return client


def test_the_lists_show_rooms_with_state_and_deliveries_by_outcome(staff, submit, move, transport):
    transport.failures = [TransportError("cannot join: M_FORBIDDEN", permanent=True, room_state="failed")]
    move(submit(claims={"mxroomid": ROOM, "msdone": False}), "done")
    rooms = staff.get("/admin/notifications/matrixroom/")
    assert rooms.status_code == 200
    assert ROOM in rooms.text and "M_FORBIDDEN" in rooms.text
    failed = staff.get("/admin/notifications/delivery/?outcome__exact=failed")
    assert failed.status_code == 200 and ROOM in failed.text
    assert ROOM not in staff.get("/admin/notifications/delivery/?outcome__exact=sent").text
    assert staff.get("/admin/notifications/notificationsettings/").status_code == 200
    assert staff.get("/admin/notifications/botstate/").status_code == 200


def test_the_resend_action_sends_again(staff, submit, move, transport, django_capture_on_commit_callbacks):
    transport.failures = [TransportError("down", permanent=True)]
    move(submit(claims={"mxroomid": ROOM, "msdone": False}), "done")
    delivery = Delivery.objects.get()
    assert delivery.outcome == "failed"
    with django_capture_on_commit_callbacks(execute=True):
        answer = staff.post(
            "/admin/notifications/delivery/", {"action": "resend", "_selected_action": [delivery.pk]}, follow=True
        )
    assert "queued to be sent again" in answer.text
    delivery.refresh_from_db()
    assert delivery.outcome == "sent"
    assert MatrixRoom.objects.get(room_id=ROOM).state == "joined"


def deliveries_shown(page) -> tuple[list[str], list[list[str]]]:
    """The column headers and the rows, cell by cell, of a job page's deliveries inline."""
    (inline,) = [f for f in page.context["inline_admin_formsets"] if isinstance(f.opts, DeliveryInline)]
    headers = [str(column["label"]) for column in inline.fields()]
    rows = [[str(field.contents()) for fieldset in form for line in fieldset for field in line] for form in inline]
    return headers, rows


def test_a_jobs_admin_page_shows_its_deliveries_and_no_other_jobs(staff, submit, move, transport):
    transport.failures = [TransportError("cannot join: M_FORBIDDEN", permanent=True)]
    job = submit(claims={"mxroomid": ROOM, "msdone": False})
    move(job, "done")
    move(submit(owner="bob@example.org", claims={"mxroomid": "!bob:localhost"}), "done")
    delivery = Delivery.objects.get(job=job)

    page = staff.get(f"/admin/jobs/job/{job.pk}/change/")
    assert page.status_code == 200
    when = delivery.created_at.strftime("%Y-%m-%d %H:%M:%S")
    headers, rows = deliveries_shown(page)
    assert headers == ["when", "event", "channel", "recipient", "role", "outcome", "attempts", "error"]
    assert rows == [[when, "done", "matrix", ROOM, "owner", "failed", "1", "cannot join: M_FORBIDDEN"]]
    assert "bob" not in page.text


def test_the_job_list_offers_to_resend_notifications(staff):
    choices = dict(staff.get("/admin/jobs/job/").context["action_form"].fields["action"].choices)
    assert choices["resend_notifications"] == "Resend the notifications that did not arrive"
