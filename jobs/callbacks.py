"""Signed call-back URLs: a backend may report on the job it was given, and on no other."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

from jobs.models import Job

SIGNATURE_PARAM = "sig"
_SALT = "jobs.call_back"


def callback_signature(job_id: str) -> str:
    return salted_hmac(_SALT, job_id, algorithm="sha256").hexdigest()[:40]


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
