"""Signatures that open one job to someone without a token.

Two kinds, each salted for its own use only:

- call-back signatures: the URL handed to a backend carries one, so it may report
  on the job it was given and on no other (``callback_signature``);
- page links: mails and Matrix messages carry a TimestampSigner signature over
  the job id, so whoever holds the link may read that one job without logging in,
  until ``DISPATCHER_JOB_LINK_MAX_AGE_S`` has passed. It travels in the
  ``link_token`` query field: the log redaction filter hides every ``...token=``
  value, so it never reaches a log line.

Checking them is the access gate's business (``jobs.access.job_access``).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.core.signing import BadSignature, SignatureExpired, TimestampSigner
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac

from dispatcher_site.tokens import token_sign
from jobs.errors import LinkRefused
from jobs.models import Job

SIGNATURE_PARAM = "sig"
LINK_PARAM = "link_token"
_CALLBACK_SALT = "jobs.call_back"
_LINK_SALT = "jobs.page-link"


def callback_signature(job_id: str) -> str:
    return salted_hmac(_CALLBACK_SALT, job_id, algorithm="sha256").hexdigest()[:40]


def callback_signature_valid(job_id: str, signature: str | None) -> bool:
    return bool(job_id and signature) and constant_time_compare(callback_signature(job_id), signature)


def callback_url(job: Job) -> str:
    """The URL handed to the backend; it appends its report fields to it."""
    query = urlencode(
        {
            "job_id": job.job_id,
            "session_id": job.session_id,
            "instrument_name": job.instrument,
            SIGNATURE_PARAM: callback_signature(job.job_id),
        }
    )
    return f"{settings.PUBLIC_URL}/call_back?{query}"


def job_link_sign(job_id: str) -> str:
    """The value of ``link_token`` that opens ``job_id``'s page: "<timestamp>:<signature>"."""
    signed = TimestampSigner(salt=_LINK_SALT).sign(job_id)
    return signed[len(job_id) + 1 :]


def job_link_check(job_id: str, value: str) -> None:
    """Raise LinkRefused unless ``value`` was signed here for ``job_id`` and is young enough."""
    try:
        TimestampSigner(salt=_LINK_SALT).unsign(f"{job_id}:{value}", max_age=settings.JOB_LINK_MAX_AGE_S)
    except SignatureExpired:
        raise LinkRefused("This link has expired; please ask for the job again.") from None
    except BadSignature:
        raise LinkRefused("This link is not valid for this job.") from None


def job_page_path(job_id: str) -> str:
    return reverse("job_page", kwargs={"job_id": job_id})


def job_page_url(job_id: str) -> str:
    """The absolute, signed link to the job's page, as put in mails and Matrix messages."""
    return f"{settings.PUBLIC_URL}{job_page_path(job_id)}?{LINK_PARAM}={job_link_sign(job_id)}"


def job_owner_token(job: Job) -> str:
    """The owner's token for a backend acting for them: the claims the job kept, signed again.

    The job keeps its owner's claims, never the token; signing them again with the
    shared secret gives a token that says the same (same subject, roles and expiry).
    Empty for a public job, or one whose claims are gone.
    """
    claims = job.claims
    if not job.owner or not isinstance(claims, dict) or "exp" not in claims:
        return ""
    return token_sign(dict(claims))
