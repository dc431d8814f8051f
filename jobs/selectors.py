"""Reading jobs on behalf of a caller: the one permission gate every view goes through.

Who may see a job:
- a job with an owner (made with a token): its owner, and callers with the role
  ``job manager``; anyone else gets JobForbidden (403), never the job;
- a public job (made without a token, owner ""): anyone who presents its job id.
  When the caller also presents a session id and the job recorded one, the two
  must match. Note that identical public requests share one job (the job id is
  a hash of the request), so a second client that joined it polls with another
  session: views should pass ``session_id`` only where a mismatch must refuse.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone

from dispatcher_site.auth import Caller
from jobs.exceptions import JobForbidden, JobNotFound
from jobs.models import Job
from jobs.sql import job_by_job_id


def job_get_for_user(*, job_id: str, caller: Caller, session_id: str | None = None) -> Job:
    """The job, if the caller may see it: JobNotFound (404) when missing, JobForbidden (403) when not theirs."""
    job = job_by_job_id(job_id)
    if job is None:
        raise JobNotFound(job_id)
    if not job_visible_to(job=job, caller=caller, session_id=session_id):
        raise JobForbidden()
    return job


def job_visible_to(*, job: Job, caller: Caller, session_id: str | None = None) -> bool:
    """The rule of the module docstring, for a job already loaded."""
    if caller.is_job_manager:
        return True
    if job.owner:
        return caller.sub == job.owner
    return not session_id or not job.session_id or session_id == job.session_id


def jobs_for_user(*, caller: Caller, only_own: bool = False, recent_days: float | None = None) -> QuerySet[Job]:
    """Jobs the caller may list, newest first: their own; every job for a ``job manager`` unless ``only_own``.

    Public callers list nothing: their jobs are reachable only by job id.
    """
    if caller.is_public:
        return Job.objects.none()
    jobs = Job.objects.all() if caller.is_job_manager and not only_own else Job.objects.filter(owner=caller.sub)
    if recent_days is not None:
        jobs = jobs.filter(created_at__gte=timezone.now() - timedelta(days=recent_days))
    # Served by the index job_owner_created (owner, -created_at).
    return jobs.order_by("-created_at")
