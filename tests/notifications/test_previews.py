"""A done job's preview in its notices: inline in the mail, an m.image after the Matrix message.

Tasks run inline; the mail goes through the real email transport into Django's
locmem outbox; Matrix through a fake transport, or the real one with a fake
matrix-nio client where the homeserver's answers matter (the upload refused).
"""

from __future__ import annotations

import io

import pytest
from django.core import mail
from matplotlib.image import imread
from nio import JoinedRoomsResponse, RoomGetStateEventError, RoomSendResponse, UploadError, UploadResponse

from jobs.models import JobEvent
from jobs.previews import PREVIEW_SIZE_PX, preview_load
from notifications.deliveries import delivery_resend
from notifications.messages import message_for_email
from notifications.models import Delivery, MatrixRoom
from notifications.transports import TransportError
from tests.lightcurves import done_lightcurve_job
from tests.notifications.conftest import ALICE, ROOM, FakeTransport

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("configured")]


@pytest.fixture(autouse=True)
def _products_apart(settings, tmp_path):
    settings.PRODUCTS_DIR = tmp_path / "products"


@pytest.fixture
def finish_lightcurve(django_capture_on_commit_callbacks):
    """A demo-lightcurve job of alice's, done; its notices planned and sent (tasks inline)."""

    def finish(**claims):
        with django_capture_on_commit_callbacks(execute=True):
            return done_lightcurve_job(owner=ALICE, claims={"mxroomid": ROOM, **claims})

    return finish


@pytest.fixture
def finish_empty(submit, move):
    def finish():
        return move(submit(), "done")

    return finish


def notification_texts(job) -> list[str]:
    return [event.data["status_text"] for event in job.events.filter(kind=JobEvent.Kind.NOTIFICATION)]


# --- email ------------------------------------------------------------------------------------


def test_the_done_mail_shows_the_preview_inline_in_its_html_and_keeps_its_plain_text(finish_lightcurve):
    job = finish_lightcurve(mxdone=False)

    (sent,) = mail.outbox
    message = sent.message()
    assert message.get_content_type() == "multipart/alternative"
    plain, related = message.get_payload()
    assert plain.get_content_type() == "text/plain"
    assert plain.get_payload(decode=True).decode() == message_for_email(job, event="done").text  # unchanged
    assert related.get_content_type() == "multipart/related"
    html, image = related.get_payload()
    content_id = image["Content-ID"].strip("<>")
    assert f'src="cid:{content_id}"' in html.get_payload(decode=True).decode()
    assert image.get_content_type() == "image/png"
    assert image["Content-Disposition"].startswith("inline")
    png = image.get_payload(decode=True)
    assert imread(io.BytesIO(png)).shape[:2] == (PREVIEW_SIZE_PX[1], PREVIEW_SIZE_PX[0])
    assert png == preview_load(job).png  # the kept one


def test_a_done_mail_without_a_drawable_product_has_no_image_and_says_nothing_of_it(finish_empty):
    finish_empty()
    (sent,) = mail.outbox
    message = sent.message()
    assert [part.get_content_type() for part in message.get_payload()] == ["text/plain", "text/html"]
    assert "cid:" not in sent.alternatives[0].content and "preview" not in sent.body.lower()


# --- Matrix, with a fake transport ------------------------------------------------------------


def test_the_preview_follows_the_done_message_in_the_same_room_as_its_own_delivery(finish_lightcurve, transport):
    job = finish_lightcurve(msdone=False)

    (text, image) = [(recipient, message) for channel, recipient, _, message in transport.sent]
    assert text[0] == image[0] == ROOM
    assert text[1].image is None and text[1].text.startswith("[ODA][done]")
    assert image[1].image == preview_load(job)
    assert job.job_id[:8] in image[1].text
    rows = Delivery.objects.filter(job=job).order_by("id")
    assert list(rows.values_list("channel", "content", "outcome")) == [
        ("matrix", "message", "sent"),
        ("matrix", "preview", "sent"),
    ]
    assert notification_texts(job) == ["matrix message sent"]  # the history tells of the notice alone


class RefusingImages(FakeTransport):
    def send(self, delivery, message) -> None:
        if message.image is not None:
            self.tries.append(str(delivery.txn_id))
            raise TransportError("the homeserver refused the preview's upload: M_TOO_LARGE", permanent=True)
        super().send(delivery, message)


def test_a_refused_upload_leaves_the_text_delivered_and_fails_the_image_delivery_alone(finish_lightcurve, monkeypatch):
    fake = RefusingImages()
    monkeypatch.setattr("notifications.deliveries.transport_for", lambda channel: fake)
    MatrixRoom.objects.create(room_id=ROOM, state="joined")

    job = finish_lightcurve(msdone=False)

    assert [message.text[:11] for _, _, _, message in fake.sent] == ["[ODA][done]"]
    text, image = Delivery.objects.filter(job=job).order_by("id")
    assert (text.content, text.outcome, text.error) == ("message", "sent", "")
    assert (image.content, image.outcome, image.attempts) == ("preview", "failed", 1)
    assert "M_TOO_LARGE" in image.error
    job.refresh_from_db()
    assert job.status == "done"
    assert notification_texts(job) == ["matrix message sent"]  # nothing else
    room = MatrixRoom.objects.get(room_id=ROOM)
    assert (room.state, room.last_error) == ("joined", "")


def test_a_job_without_a_drawable_product_sends_no_image(finish_empty, transport):
    job = finish_empty()
    assert [message.image for _, _, _, message in transport.sent] == [None, None]
    assert not Delivery.objects.filter(job=job, content="preview").exists()


def test_a_resend_reuses_the_kept_preview_and_never_posts_a_second_one(
    finish_lightcurve, transport, monkeypatch, django_capture_on_commit_callbacks
):
    job = finish_lightcurve(msdone=False)
    text, image = Delivery.objects.filter(job=job).order_by("id")
    monkeypatch.setattr("jobs.previews.preview_render", lambda lists: pytest.fail("drawn again"))

    with django_capture_on_commit_callbacks(execute=True):
        delivery_resend(delivery_id=text.pk)  # the words again: no second image
    with django_capture_on_commit_callbacks(execute=True):
        delivery_resend(delivery_id=image.pk)  # the image again, on demand: the kept one

    images = [message.image for _, _, _, message in transport.sent if message.image is not None]
    assert len(images) == 2 and images[0] == images[1] == preview_load(job)
    assert Delivery.objects.filter(job=job, content="preview").count() == 2  # the first and its resent copy
    assert Delivery.objects.filter(job=job, content="message").count() == 2


# --- Matrix, the real transport with a fake matrix-nio client ---------------------------------


class FakeNioClient:
    """Answers as a homeserver would; the upload refused when told to."""

    def __init__(self, *, refuse_upload: bool):
        self.refuse_upload = refuse_upload
        self.sent: list[dict] = []
        self.uploads: list[bytes] = []

    async def joined_rooms(self):
        return JoinedRoomsResponse(rooms=[ROOM])

    async def room_get_state_event(self, room_id, event_type):
        return RoomGetStateEventError(message="not found", status_code="M_NOT_FOUND")

    async def upload(self, data_provider, content_type, filename, filesize):
        if self.refuse_upload:
            return UploadError(message="File size limit exceeded", status_code="M_TOO_LARGE"), None
        self.uploads.append(data_provider(0, 0).read())
        return UploadResponse(content_uri="mxc://localhost/preview1"), None

    async def room_send(self, room_id, message_type, content, tx_id):
        self.sent.append(content)
        return RoomSendResponse(event_id=f"$e{len(self.sent)}", room_id=room_id)

    async def close(self):
        pass


@pytest.mark.parametrize("refuse_upload", [False, True], ids=["uploaded", "upload-refused"])
def test_the_matrix_transport_uploads_the_preview_and_posts_an_m_image(finish_lightcurve, monkeypatch, refuse_upload):
    client = FakeNioClient(refuse_upload=refuse_upload)
    monkeypatch.setattr("notifications.transports.matrix.matrix_client", lambda: client)

    job = finish_lightcurve(msdone=False)

    text, image = Delivery.objects.filter(job=job).order_by("id")
    assert text.outcome == "sent"
    if refuse_upload:
        assert [content["msgtype"] for content in client.sent] == ["m.text"]
        assert (image.outcome, image.attempts) == ("failed", 1)  # permanent: not retried
        assert "refused the preview's upload" in image.error and "M_TOO_LARGE" in image.error
        return
    assert [content["msgtype"] for content in client.sent] == ["m.text", "m.image"]
    posted = client.sent[1]
    assert posted["url"] == "mxc://localhost/preview1"
    assert job.job_id[:8] in posted["body"]
    assert posted["info"] == {"mimetype": "image/png", "size": len(client.uploads[0]), "w": 600, "h": 400}
    assert client.uploads == [preview_load(job).png]
    assert image.outcome == "sent"
