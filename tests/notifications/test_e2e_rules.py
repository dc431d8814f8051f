"""Email through a real SMTP server (aiosmtpd) and the notification rules, end to end.

Tasks run in a real django-q2 cluster (``manage.py qcluster`` subprocess) on the
file-backed test database; Matrix messages go through the session's Synapse.
"""

from __future__ import annotations

import re

import pytest
from django_q.models import Task

from notifications.models import Delivery
from tests.notifications.e2e import (
    ALICE_EMAIL,
    finish,
    new_job,
    notification_events,
    repeat_status_event,
    wait_for,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]


def planned(event) -> bool:
    """Whether the cluster has run the planning task of this job event."""
    done = Task.objects.filter(func="notifications.tasks.plan_event")
    return any(tuple(task.args) == (event.pk,) for task in done)


def last_status_event(job):
    return job.events.filter(kind="status").order_by("-id").first()


def test_submitted_and_done_mails_arrive_as_plain_and_html_with_link_and_api_code(smtp, dispatcher):
    processes = dispatcher(smtp=smtp, DISPATCHER_EMAIL_BCC="ops@example.org")
    job = new_job(claims={"mssub": True, "name": "Alice"})
    wait_for(lambda: smtp.about(job), "the submitted mail", logs=processes.logs)
    finish(job)
    mails = wait_for(lambda: len(smtp.about(job)) == 2 and smtp.about(job), "the done mail", logs=processes.logs)

    requested = job.created_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    subjects = [mail["Subject"] for _, mail in mails]
    assert subjects == [
        f"[ODA][submitted] dummy requested at {requested} job_id: {job.job_id[:8]}",
        f"[ODA][done] dummy requested at {requested} job_id: {job.job_id[:8]}",
    ]
    recipients, done = mails[1]
    assert sorted(recipients) == [ALICE_EMAIL, "ops@example.org"]
    assert done["To"] == ALICE_EMAIL
    assert done["Bcc"] is None  # a blind copy stays blind
    assert done.get_content_type() == "multipart/alternative"
    plain = done.get_body(("plain",)).get_content()
    html = done.get_body(("html",)).get_content()
    link = f"http://dispatcher.test/jobs/{job.job_id}/"
    assert "Dear Alice" in plain and "is done" in plain
    assert link in plain and f'<a href="{link}' in html
    assert 'disp = DispatcherAPI(url="http://dispatcher.test")' in plain.replace("'", '"')
    assert re.search(r"run='[0-9a-f]{32}',", plain)
    assert "<pre><code>from oda_api.api import DispatcherAPI" in html
    # The worker records each outcome once the SMTP server has taken the mail.
    sent = ["email sent", "email sent"]
    wait_for(lambda: [e["status_text"] for e in notification_events(job)] == sent, "both outcomes recorded")


def test_submitted_notices_respect_the_interval_of_each_channel(smtp, homeserver, dispatcher):
    processes = dispatcher(smtp=smtp, homeserver=homeserver, bot=False)
    room_id = homeserver.alice.create_room(invite=[homeserver.bot.user_id])
    job = new_job(claims={"mssub": True, "intsub": 3600, "mxroomid": room_id, "mxsub": True, "mxintsub": 0})
    wait_for(lambda: smtp.about(job), "the first submitted mail", logs=processes.logs)
    repeat = repeat_status_event(job)
    wait_for(lambda: Delivery.objects.filter(job=job, channel="matrix", outcome="sent").count() == 2, "two notices")

    assert len(smtp.about(job)) == 1
    skipped = Delivery.objects.get(job=job, source_event_id=repeat.pk, channel="email")
    assert skipped.outcome == "skipped"
    bodies = [m["content"]["body"] for m in homeserver.alice.messages(room_id, sender=homeserver.bot.user_id)]
    assert len(bodies) == 2 and all(body.startswith("[ODA][submitted]") for body in bodies)


def test_done_is_notified_exactly_once_and_a_repeat_is_refused(smtp, homeserver, dispatcher):
    processes = dispatcher(smtp=smtp, homeserver=homeserver, bot=False)
    room_id = homeserver.alice.create_room(invite=[homeserver.bot.user_id])
    job = new_job(claims={"mxroomid": room_id})
    finish(job)
    wait_for(lambda: Delivery.objects.filter(job=job, outcome="sent").count() == 2, "both done", logs=processes.logs)
    repeat = repeat_status_event(job)
    wait_for(lambda: planned(repeat), "the repeat to be planned", logs=processes.logs)

    refused = Delivery.objects.filter(job=job, source_event_id=repeat.pk)
    assert sorted(refused.values_list("channel", "outcome")) == [("email", "refused"), ("matrix", "refused")]
    assert len(smtp.about(job)) == 1
    assert len(homeserver.alice.messages(room_id, sender=homeserver.bot.user_id)) == 1
    texts = {e["status_text"] for e in notification_events(job)[-2:]}
    assert texts == {
        "email not sent: done was already notified for this job",
        "matrix message not sent: done was already notified for this job",
    }


def test_done_waits_for_the_threshold_when_stout_asks(smtp, homeserver, dispatcher):
    processes = dispatcher(smtp=smtp, homeserver=homeserver, bot=False)
    room_id = homeserver.alice.create_room(invite=[homeserver.bot.user_id])
    # A quick job: too quick for a mail (tem 3600 s), long enough for Matrix (tmx 0 s).
    job = new_job(claims={"mstout": True, "tem": 3600, "mxroomid": room_id, "mxstout": True, "tmx": 0})
    finish(job)
    wait_for(
        lambda: Delivery.objects.filter(job=job, channel="matrix", outcome="sent").exists(),
        "matrix done",
        logs=processes.logs,
    )

    assert Delivery.objects.get(job=job, channel="email").outcome == "skipped"
    assert smtp.about(job) == []
    assert "email not sent: the job took less than 3600 s" in [e["status_text"] for e in notification_events(job)]
    assert len(homeserver.alice.messages(room_id, sender=homeserver.bot.user_id)) == 1


def test_public_jobs_send_nothing(smtp, homeserver, dispatcher):
    processes = dispatcher(smtp=smtp, homeserver=homeserver, bot=False, DISPATCHER_MATRIX_INCIDENT_ROOMS="!ops:x")
    room_id = homeserver.alice.create_room(invite=[homeserver.bot.user_id])
    claims = {"mssub": True, "mxsub": True, "mxroomid": room_id, "email": ALICE_EMAIL}
    job = new_job(owner="", claims=claims)
    finish(job, "failed", "the backend failed")
    # Nothing is even planned for a public job; a later job of alice's shows that the
    # cluster was working all along, so the silence is not a stopped worker.
    owned = new_job(owner=ALICE_EMAIL, claims={"mssub": False, "msdone": False, "mxsub": False, "mxdone": False})
    finish(owned, "done")
    wait_for(lambda: planned(last_status_event(owned)), "planning of alice's job", logs=processes.logs)

    assert not any(planned(event) for event in job.events.filter(kind="status"))
    assert Delivery.objects.filter(job=job).count() == 0
    assert smtp.mails == []
    assert homeserver.alice.messages(room_id, sender=homeserver.bot.user_id) == []
    assert notification_events(job) == []


def test_the_done_mail_of_a_light_curve_shows_its_preview_inline(smtp, dispatcher):
    import io

    from matplotlib.image import imread

    from jobs.previews import PREVIEW_SIZE_PX, preview_load
    from tests.lightcurves import done_lightcurve_job

    processes = dispatcher(smtp=smtp)
    job = done_lightcurve_job(owner=ALICE_EMAIL, claims={"name": "Alice"})

    ((_, done),) = wait_for(lambda: smtp.about(job), "the done mail", logs=processes.logs)
    assert done.get_content_type() == "multipart/alternative"
    plain = done.get_body(("plain",)).get_content()
    assert "Dear Alice" in plain and "is done" in plain and "cid:" not in plain
    related = done.get_body(("related",))
    html = done.get_body(("html",)).get_content()
    (image,) = [part for part in related.iter_parts() if part.get_content_type() == "image/png"]
    assert image.get_content_disposition() == "inline"
    assert f'<img src="cid:{image["Content-ID"].strip("<>")}"' in html
    png = image.get_content()
    assert imread(io.BytesIO(png)).shape[:2] == (PREVIEW_SIZE_PX[1], PREVIEW_SIZE_PX[0])
    assert png == preview_load(job).png  # drawn by the worker that sent it, kept with the products
