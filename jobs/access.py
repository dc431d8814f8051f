"""Reading jobs on behalf of someone: the one access gate and the one list selector.

Every interface (ODA protocol, REST, UWS, the job page, downloads, inspection,
call-backs) reaches a job through ``job_access`` and lists jobs through
``jobs_listed``; nothing else reads jobs for a caller.

Who may do what with a job (``Use``):

- READ: the owner (their token); a caller with the role ``job manager``; a
  logged-in staff session (the admin's "Job page" link); whoever holds a signed
  page link for this job (mails, Matrix messages). A public job (made without a
  token, owner "") is read by anyone who presents its job id; when the caller
  also presents a session id and the job recorded one, the two must match. Note
  that identical public requests share one job (the job id is a hash of the
  request), so a second client that joined it polls with another session:
  interfaces pass ``session_id`` only where a mismatch must refuse.
- CONTROL (abort, archive): the owner or a job manager. A public
  job is shared by everyone who asked the same thing, so no public caller
  controls one.
- REPORT (a backend's call-back): only with the job's call-back signature.

A missing job is JobNotFound (404), a job the caller may not use JobForbidden
(403), a link or signature that does not hold LinkRefused (403, even where the
job would otherwise be readable: a broken link should say so).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet

from dispatcher_site.auth import ROLE_JOB_MANAGER, Caller, require_roles
from jobs.errors import JobForbidden, JobNotFound, LinkRefused
from jobs.models import Job
from jobs.signing import callback_signature_valid, job_link_check
from jobs.sql import job_by_job_id


class Use(enum.Enum):
    READ = "read"
    CONTROL = "control"
    REPORT = "report"


def job_access(
    *,
    caller: Caller,
    job_id: str,
    use: Use = Use.READ,
    link: str | None = None,
    signature: str | None = None,
    session_id: str | None = None,
) -> Job:
    """The job, if ``caller`` (or the ``link`` / call-back ``signature`` presented) may ``use`` it."""
    if use is Use.REPORT and not callback_signature_valid(job_id, signature):
        raise LinkRefused("This call-back is not signed for this job.")
    if link is not None:
        if use is not Use.READ:
            raise LinkRefused("A page link only opens the job's page.")
        job_link_check(job_id, link)
    job = job_by_job_id(job_id)
    if job is None:
        raise JobNotFound(job_id)
    proven = use is Use.REPORT or link is not None
    if not proven and not job_allows(job=job, caller=caller, use=use, session_id=session_id):
        raise JobForbidden()
    return job


def job_allows(*, job: Job, caller: Caller, use: Use = Use.READ, session_id: str | None = None) -> bool:
    """The rule of the module docstring for a caller without a link, on a job already loaded."""
    if caller.is_job_manager:
        return True
    if caller.is_staff:
        return use is Use.READ  # staff act through the admin's own actions
    if job.owner:
        return caller.sub == job.owner
    if use is not Use.READ:
        return False
    return not session_id or not job.session_id or session_id == job.session_id


class Scope(enum.Enum):
    OWN = "own"  # the caller's own jobs, whoever they are
    VISIBLE = "visible"  # everyone's for a job manager, else their own
    EVERYONE = "everyone"  # everyone's; only a job manager may ask


@dataclass(frozen=True)
class JobFilter:
    """What a list asks for; every field left None narrows nothing."""

    statuses: frozenset[str] | None = None
    instrument: str | None = None
    job_id: str | None = None
    # The first characters of a job id (oda-api's inspect asks by the first 8).
    job_id_prefix: str | None = None
    created_after: datetime | None = None
    # False hides archived jobs, True keeps only them; None does not look.
    archived: bool | None = None
    # Archived jobs as well, whatever their status (UWS: PHASE=ARCHIVED beside other phases).
    or_archived: bool = False


def jobs_listed(*, caller: Caller, scope: Scope = Scope.VISIBLE, filters: JobFilter = JobFilter()) -> QuerySet[Job]:
    """The jobs ``caller`` may list that match ``filters``, newest first.

    Public callers list nothing: their jobs are reachable only by job id.
    """
    if scope is Scope.EVERYONE:
        require_roles(caller, {ROLE_JOB_MANAGER}, what="inspect the state for a given job_id")
    if caller.is_public:
        return Job.objects.none()
    everyone = scope is Scope.EVERYONE or (scope is Scope.VISIBLE and caller.is_job_manager)
    jobs = Job.objects.all() if everyone else Job.objects.filter(owner=caller.sub)
    # "My jobs, newest first" is served by the index job_owner_created (owner, -created_at).
    return jobs.filter(_matching(filters)).order_by("-created_at")


def _matching(filters: JobFilter) -> Q:
    condition = Q()
    if filters.statuses is not None:
        condition &= Q(status__in=sorted(filters.statuses))
    if filters.archived is not None:
        condition &= Q(archived_at__isnull=not filters.archived)
    if filters.or_archived:
        condition |= Q(archived_at__isnull=False)
    if filters.instrument:
        condition &= Q(instrument=filters.instrument)
    if filters.job_id:
        condition &= Q(job_id=filters.job_id)
    if filters.job_id_prefix:
        condition &= job_id_prefix_q(filters.job_id_prefix)
    if filters.created_after is not None:
        condition &= Q(created_at__gt=filters.created_after)
    return condition


_HEX = "0123456789abcdef"


def job_id_prefix_q(prefix: str) -> Q:
    """Job ids that begin with ``prefix``, found through the unique job_id index.

    SQLite's LIKE ignores case, so it cannot use that (case-sensitive) index and
    ``startswith`` alone scanned all of it: 1,000,000 ids for every oda-api
    inspect and admin search. Ids are lowercase hex (see ``prefix_q``).
    """
    return prefix_q("job_id", prefix, alphabet=_HEX)


def prefix_q(column: str, prefix: str, *, alphabet: str) -> Q:
    """Values of ``column`` that begin with ``prefix``, as a range an index serves.

    A prefix of characters from ``alphabet`` (digits and lowercase letters, in the order
    every collation gives them) bounds a range of the column's index on both databases;
    ``startswith`` stays, so the answer is exact whatever the range lets through. Any
    other prefix gets ``startswith`` alone.
    """
    condition = Q(**{f"{column}__startswith": prefix})
    if not prefix or prefix.strip(alphabet):
        return condition
    stem = prefix.rstrip(alphabet[-1])
    condition &= Q(**{f"{column}__gte": prefix})
    if stem:  # "ab3f" -> below "ab4"; a prefix of only the last character has no upper bound
        condition &= Q(**{f"{column}__lt": stem[:-1] + alphabet[alphabet.index(stem[-1]) + 1]})
    return condition
