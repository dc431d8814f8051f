"""Matrix notifications against a real Synapse, with the real bot and worker processes.

Tasks run in a real django-q2 cluster (``manage.py qcluster``) and the bot is
``manage.py matrix_bot``, both as subprocesses on the file-backed test database.
"""

from __future__ import annotations

import io
import subprocess
import sys
import time

import pytest
from matplotlib.image import imread

from notifications.deliveries import delivery_resend
from notifications.models import BotState, Delivery, MatrixRoom
from tests.notifications.e2e import finish, new_job, notification_events, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]


def bot_messages(homeserver, room_id: str) -> list[dict]:
    return homeserver.alice.messages(room_id, sender=homeserver.bot.user_id)


def room_with_bot(homeserver, processes) -> str:
    """Alice makes a room and invites the bot; returns once the bot joined on its own."""
    alice, bot = homeserver.alice, homeserver.bot
    room_id = alice.create_room(invite=[bot.user_id])
    wait_for(lambda: bot.user_id in alice.members(room_id), "the bot to join", logs=processes.logs)
    return room_id


def test_the_bot_joins_and_alice_reads_submitted_and_done_messages(homeserver, dispatcher):
    processes = dispatcher(homeserver=homeserver)
    room_id = room_with_bot(homeserver, processes)
    room = wait_for(lambda: MatrixRoom.objects.filter(room_id=room_id, state="joined").first(), "the room row")
    assert room.invited_by == homeserver.alice.user_id
    assert room.invited_at is not None

    job = new_job(claims={"mxroomid": room_id, "mxsub": True})
    submitted = wait_for(lambda: bot_messages(homeserver, room_id), "the submitted message", logs=processes.logs)
    finish(job)
    messages = wait_for(
        lambda: (m := bot_messages(homeserver, room_id)) and len(m) >= 2 and m, "the done message", logs=processes.logs
    )
    assert len(submitted) == 1
    contents = [message["content"] for message in messages]
    assert [c["body"].split("]")[1] for c in contents] == ["[submitted", "[done"]
    for content in contents:
        assert job.job_id[:8] in content["body"]
        assert "http://dispatcher.test/jobs/" in content["body"]
        assert content["format"] == "org.matrix.custom.html"
        # The job page's link (job_link may add a signature after the path).
        assert f'<a href="http://dispatcher.test/jobs/{job.job_id}/' in content["formatted_body"]

    # The worker records each outcome once the homeserver has taken the message.
    expected = [("submitted", "matrix message sent"), ("done", "matrix message sent")]
    wait_for(
        lambda: [(e["event"], e["status_text"]) for e in notification_events(job)] == expected, "both outcomes recorded"
    )
    assert MatrixRoom.objects.get(room_id=room_id).last_message_at is not None


def test_the_bot_answers_status_only_for_jobs_of_that_room_and_never_replays(homeserver, dispatcher):
    processes = dispatcher(homeserver=homeserver)
    alice = homeserver.alice
    room_id = room_with_bot(homeserver, processes)
    job = new_job(claims={"mxroomid": room_id, "mxdone": False})
    other = new_job(claims={"mxroomid": "!elsewhere:localhost"})
    finish(job)

    alice.say(room_id, f"!status {job.job_id[:8]}")
    answer = wait_for(lambda: bot_messages(homeserver, room_id), "the status answer", logs=processes.logs)
    assert answer[0]["content"]["body"].startswith(f"Job {job.job_id[:8]} (empty/dummy) is done")
    assert "<b>done</b>" in answer[0]["content"]["formatted_body"]

    alice.say(room_id, f"!status {other.job_id}")
    answers = wait_for(lambda: (m := bot_messages(homeserver, room_id)) and len(m) == 2 and m, "the refusal")
    assert answers[1]["content"]["body"] == f"No job {other.job_id} notifies this room."

    # A restart resumes from the saved sync position: old commands are not answered again.
    assert processes.stop("matrix_bot") == 0
    assert BotState.objects.get(key="matrix.next_batch").value
    processes.start("matrix_bot", "matrix_bot", "--sync-timeout-ms", "3000", "--max-backoff-s", "2")
    alice.say(room_id, f"!status {job.job_id}")
    wait_for(lambda: len(bot_messages(homeserver, room_id)) >= 3, "the new answer", logs=processes.logs)
    time.sleep(2)  # room for a replayed answer to show up, if the bot replayed
    assert len(bot_messages(homeserver, room_id)) == 3
    # The homeserver would drop a replayed answer (same transaction id): the log tells if one was tried.
    assert processes.logs(chars=10**6).count("answering !status") == 3


def test_rooms_the_bot_cannot_use_fail_the_delivery_not_the_job(homeserver, dispatcher):
    processes = dispatcher(homeserver=homeserver)
    alice = homeserver.alice
    never_invited = alice.create_room()
    encrypted = alice.create_room(invite=[homeserver.bot.user_id], encrypted=True)
    wait_for(lambda: MatrixRoom.objects.filter(room_id=encrypted, state="encrypted").exists(), "encrypted noted")

    jobs = [new_job(claims={"mxroomid": room_id, "msdone": False}) for room_id in (never_invited, encrypted)]
    for job in jobs:
        finish(job)
    for job in jobs:
        delivery = wait_for(
            lambda job=job: Delivery.objects.filter(job=job, outcome="failed").first(),
            "the failed delivery",
            logs=processes.logs,
        )
        assert delivery.attempts == 1  # permanent: not retried
        job.refresh_from_db()
        assert job.status == "done"
        assert notification_events(job)[-1]["status_text"] == "sending message via matrix failed"

    uninvited = MatrixRoom.objects.get(room_id=never_invited)
    assert uninvited.state == "failed"
    assert "M_FORBIDDEN" in uninvited.last_error
    assert MatrixRoom.objects.get(room_id=encrypted).state == "encrypted"
    assert "encrypted" in Delivery.objects.get(job=jobs[1]).error
    assert bot_messages(homeserver, encrypted) == []


def test_with_the_homeserver_down_the_job_completes_and_a_resend_delivers_later(homeserver, dispatcher):
    processes = dispatcher(homeserver=homeserver)
    alice = homeserver.alice
    room_id = room_with_bot(homeserver, processes)
    job = new_job(claims={"mxroomid": room_id, "msdone": False})

    homeserver.stop()
    finish(job)
    delivery = wait_for(
        lambda: Delivery.objects.filter(job=job, outcome="failed").first(), "the failure", logs=processes.logs
    )
    assert delivery.attempts == 2  # DISPATCHER_NOTIFY_MAX_ATTEMPTS in the workers
    assert "homeserver unreachable" in delivery.error
    job.refresh_from_db()
    assert job.status == "done"
    assert notification_events(job)[-1]["status_text"] == "sending message via matrix failed"
    assert "homeserver unreachable" in MatrixRoom.objects.get(room_id=room_id).last_error

    homeserver.start()
    delivery_resend(delivery_id=delivery.pk)
    message = wait_for(lambda: bot_messages(homeserver, room_id), "the resent message", logs=processes.logs)
    assert message[0]["content"]["body"].startswith("[ODA][done]")
    delivery.refresh_from_db()
    assert (delivery.outcome, delivery.attempts) == ("sent", 3)
    assert notification_events(job)[-1]["status_text"] == "matrix message sent"

    # The bot outlived the outage: it still answers.
    alice.say(room_id, f"!status {job.job_id[:8]}")
    wait_for(lambda: len(bot_messages(homeserver, room_id)) == 2, "an answer after the outage", logs=processes.logs)


def test_the_bot_stops_with_a_clear_error_when_its_token_is_refused(homeserver, tmp_path):
    from tests.notifications.e2e import ROOT, dispatcher_environment

    environment = dispatcher_environment(
        DISPATCHER_MATRIX_HOMESERVER=homeserver.url,
        DISPATCHER_MATRIX_USER_ID=homeserver.bot.user_id,
        DISPATCHER_MATRIX_ACCESS_TOKEN="not-a-valid-token",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "matrix_bot"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "refuses the bot's access token" in result.stderr
    assert "DISPATCHER_MATRIX_ACCESS_TOKEN" in result.stderr


def test_a_retried_send_of_one_delivery_posts_once(homeserver, settings):
    from notifications.messages import Message
    from notifications.transports.matrix import MatrixTransport

    settings.MATRIX_HOMESERVER = homeserver.url
    settings.MATRIX_USER_ID = homeserver.bot.user_id
    settings.MATRIX_ACCESS_TOKEN = homeserver.bot.access_token
    room_id = homeserver.alice.create_room(invite=[homeserver.bot.user_id])
    job = new_job()
    once = Delivery.objects.create(job=job, event="done", channel="matrix", recipient=room_id)
    other = Delivery.objects.create(job=job, event="done", channel="matrix", recipient=room_id)
    message = Message(subject="", text="hello", html="<p>hello</p>")

    for delivery in (once, once, other):  # the second send is a retry: same transaction id
        MatrixTransport().send(delivery, message)

    assert len(bot_messages(homeserver, room_id)) == 2


def test_a_done_light_curve_is_followed_by_its_preview_as_an_m_image_in_the_same_room(homeserver, dispatcher):
    from jobs.previews import PREVIEW_SIZE_PX, preview_load
    from tests.lightcurves import done_lightcurve_job
    from tests.notifications.e2e import ALICE_EMAIL

    processes = dispatcher(homeserver=homeserver)
    room_id = room_with_bot(homeserver, processes)

    job = done_lightcurve_job(owner=ALICE_EMAIL, claims={"mxroomid": room_id, "msdone": False})

    messages = wait_for(
        lambda: (m := bot_messages(homeserver, room_id)) and len(m) >= 2 and m, "the preview", logs=processes.logs
    )
    text, image = (message["content"] for message in messages)
    assert text["msgtype"] == "m.text" and text["body"].startswith("[ODA][done]")
    assert image["msgtype"] == "m.image"
    assert job.job_id[:8] in image["body"]
    assert image["url"].startswith("mxc://localhost/")
    assert image["info"]["mimetype"] == "image/png"
    assert (image["info"]["w"], image["info"]["h"]) == PREVIEW_SIZE_PX
    media = homeserver.alice.download(image["url"])
    assert media.status_code == 200
    assert media.headers["Content-Type"] == "image/png"
    assert media.content == preview_load(job).png  # the one the worker drew and kept with the products
    assert imread(io.BytesIO(media.content)).shape[:2] == (PREVIEW_SIZE_PX[1], PREVIEW_SIZE_PX[0])

    deliveries = Delivery.objects.filter(job=job).order_by("id")
    wait_for(lambda: deliveries.filter(outcome="sent").count() == 2, "both deliveries recorded")
    assert list(deliveries.values_list("content", "outcome")) == [("message", "sent"), ("preview", "sent")]
    assert [e["status_text"] for e in notification_events(job)] == ["matrix message sent"]
    time.sleep(1)
    assert len(bot_messages(homeserver, room_id)) == 2  # one image, once
