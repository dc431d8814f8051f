"""Where a message sends its reader; the one place that builds those links."""

from __future__ import annotations

from django.conf import settings

from jobs.links import job_link_for_people
from jobs.models import Job


def job_link(job: Job) -> str:
    """Where a person opens the job from a mail or a chat: the frontend's form re-filled with the
    request when DISPATCHER_FRONTEND_URL is set, else the job's page; signed and expiring, so no
    login is needed (jobs.links)."""
    return job_link_for_people(job)


def dispatcher_url() -> str:
    """The base URL that oda-api's DispatcherAPI is built with."""
    return settings.PUBLIC_URL
