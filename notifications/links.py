"""Where a message sends its reader; the one place that builds those links."""

from __future__ import annotations

from django.conf import settings

from jobs.models import Job
from jobs.signing import job_page_url


def job_link(job: Job) -> str:
    """The job's page, as a person opens it from a mail or a chat: signed and expiring, so no login is needed."""
    return job_page_url(job.job_id)


def dispatcher_url() -> str:
    """The base URL that oda-api's DispatcherAPI is built with."""
    return settings.PUBLIC_URL
