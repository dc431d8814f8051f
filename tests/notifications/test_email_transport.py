"""The SMTP transport against a real SMTP server: what counts as permanent, what is retried."""

from __future__ import annotations

import pytest
from aiosmtpd.controller import Controller

from notifications.messages import Message
from notifications.models import Delivery
from notifications.transports import TransportError
from notifications.transports.email import EmailTransport
from tests.conftest import free_port
from tests.notifications.e2e import Mailbox

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]
MESSAGE = Message(subject="[ODA][done] s", text="plain", html="<p>html</p>")


class RefusingMailbox(Mailbox):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        return "550 5.1.1 no such user"


@pytest.fixture
def delivery(submit):
    return Delivery(job=submit(), event="done", channel="email", recipient="alice@example.org")


def smtp_settings(settings, port: int) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 5


def test_a_mail_carries_a_stable_message_id_per_delivery(configured, delivery):
    mailbox, port = Mailbox(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        smtp_settings(configured, port)
        EmailTransport().send(delivery, MESSAGE)
        EmailTransport().send(delivery, MESSAGE)
    finally:
        controller.stop()
    first, second = (mail for _, mail in mailbox.mails)
    assert first["Message-ID"] == second["Message-ID"] == f"<oda-{delivery.txn_id}@oda.example.org>"
    assert first["From"] == configured.DEFAULT_FROM_EMAIL


def test_a_refused_recipient_is_permanent(configured, delivery):
    port = free_port()
    controller = Controller(RefusingMailbox(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        smtp_settings(configured, port)
        with pytest.raises(TransportError) as refused:
            EmailTransport().send(delivery, MESSAGE)
    finally:
        controller.stop()
    assert refused.value.permanent
    assert "550" in str(refused.value)


def test_an_unreachable_server_is_worth_a_retry(configured, delivery):
    smtp_settings(configured, free_port())  # nothing listens there
    with pytest.raises(TransportError) as unreachable:
        EmailTransport().send(delivery, MESSAGE)
    assert not unreachable.value.permanent
    assert "SMTP server unreachable" in str(unreachable.value)
