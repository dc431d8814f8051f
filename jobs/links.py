"""Signed, expiring links to a job's page, for people who open it from a mail or a chat.

The link carries a TimestampSigner signature over the job id (salted for this
use only), so whoever holds it may read that one job without logging in, until
``DISPATCHER_JOB_LINK_MAX_AGE_S`` has passed. The signature travels in the
``link_token`` query field: the log redaction filter hides every ``...token=``
value, so it never reaches a log line.
"""

from __future__ import annotations

from django.conf import settings
from django.core.signing import BadSignature, SignatureExpired, TimestampSigner
from django.urls import reverse

LINK_PARAM = "link_token"
_SALT = "jobs.page-link"


class LinkRefused(Exception):
    """A link that is forged, altered, for another job, or expired."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def job_link_sign(job_id: str) -> str:
    """The value of ``link_token`` that opens ``job_id``'s page: "<timestamp>:<signature>"."""
    signed = TimestampSigner(salt=_SALT).sign(job_id)
    return signed[len(job_id) + 1 :]


def job_link_check(job_id: str, value: str) -> None:
    """Raise LinkRefused unless ``value`` was signed here for ``job_id`` and is young enough."""
    try:
        TimestampSigner(salt=_SALT).unsign(f"{job_id}:{value}", max_age=settings.JOB_LINK_MAX_AGE_S)
    except SignatureExpired:
        raise LinkRefused("This link has expired; please ask for the job again.") from None
    except BadSignature:
        raise LinkRefused("This link is not valid for this job.") from None


def job_page_path(job_id: str) -> str:
    return reverse("job_page", kwargs={"job_id": job_id})


def job_page_url(job_id: str) -> str:
    """The absolute, signed link to the job's page, as put in mails and Matrix messages."""
    return f"{settings.PUBLIC_URL}{job_page_path(job_id)}?{LINK_PARAM}={job_link_sign(job_id)}"
