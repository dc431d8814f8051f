"""Mail through Django's SMTP backend.

A message with an image (a done job's preview) is multipart/alternative of the
plain text and a multipart/related of the HTML and the PNG it shows inline
(``cid:``), the structure mail clients display without offering an attachment.
"""

from __future__ import annotations

import smtplib
from email.mime.image import MIMEImage
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.message import SafeMIMEMultipart

from notifications.messages import Message
from notifications.models import Delivery
from notifications.transports import TransportError


class EmailTransport:
    def send(self, delivery: Delivery, message: Message) -> None:
        mail = _MailWithInlineImage(
            subject=message.subject,
            body=message.text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[delivery.recipient],
            bcc=list(delivery.bcc),
            headers={"Message-ID": message_id(delivery)},
            connection=get_connection(fail_silently=False),
        )
        mail.attach_alternative(message.html, "text/html")
        mail.inline_image = message.image.png if message.image else None
        mail.inline_image_id = message.image_id
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


class _MailWithInlineImage(EmailMultiAlternatives):
    inline_image: bytes | None = None
    inline_image_id: str = ""

    def _create_mime_attachment(self, content, mimetype):
        part = super()._create_mime_attachment(content, mimetype)
        if mimetype != "text/html" or not self.inline_image:
            return part
        related = SafeMIMEMultipart(_subtype="related", encoding=self.encoding or settings.DEFAULT_CHARSET)
        related.attach(part)
        image = MIMEImage(self.inline_image, "png")
        image["Content-ID"] = f"<{self.inline_image_id}>"
        image.add_header("Content-Disposition", "inline", filename="preview.png")
        related.attach(image)
        return related


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
