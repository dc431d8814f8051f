"""Mail through Django's SMTP backend."""

from __future__ import annotations

import smtplib
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection

from notifications.messages import Message
from notifications.models import Delivery
from notifications.transports import TransportError


class EmailTransport:
    def send(self, delivery: Delivery, message: Message) -> None:
        mail = EmailMultiAlternatives(
            subject=message.subject,
            body=message.text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[delivery.recipient],
            bcc=list(delivery.bcc),
            headers={"Message-ID": message_id(delivery)},
            connection=get_connection(fail_silently=False),
        )
        mail.attach_alternative(message.html, "text/html")
        try:
            mail.send()
        except smtplib.SMTPRecipientsRefused as exc:
            raise TransportError(f"recipient refused: {_first_refusal(exc)}", permanent=True) from exc
        except smtplib.SMTPResponseException as exc:
            # 5xx is the server's final word; 4xx (greylisting, busy) is worth a retry.
            text = f"SMTP {exc.smtp_code}: {_text(exc.smtp_error)}"
            raise TransportError(text, permanent=exc.smtp_code >= 500) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise TransportError(f"SMTP server unreachable: {exc}") from exc


def message_id(delivery: Delivery) -> str:
    """Stable per delivery, so a mail that a retry sends twice is one message to mail clients."""
    domain = urlsplit(settings.PUBLIC_URL).hostname or "localhost"
    return f"<oda-{delivery.txn_id}@{domain}>"


def _first_refusal(exc: smtplib.SMTPRecipientsRefused) -> str:
    for address, (code, text) in exc.recipients.items():
        return f"{address} {code} {_text(text)}"
    return "no recipient accepted"


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value
