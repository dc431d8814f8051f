"""What a job's owner or a job manager may do to a job: abort it, archive it, run it again.

Each ``*_for`` function checks the caller through the access gate, then acts;
``job_abort`` itself is for callers already checked (staff in the admin).
"""

from __future__ import annotations

from dispatcher_site.auth import Caller
from jobs.access import Use, job_access
from jobs.errors import IllegalTransition
from jobs.models import Job
from jobs.services.records import job_move, job_set_archived
from jobs.services.submission import job_run
from jobs.states import RUN_AGAIN_FROM, Status


def job_abort(*, job_id: str, message: str = "Aborted on request.") -> Job:
    """End an unfinished job as aborted; IllegalTransition (409) once it has ended."""
    return job_move(job_id=job_id, to=Status.ABORTED, message=message)


def job_abort_for(*, caller: Caller, job_id: str, again_is_fine: bool = False) -> Job:
    """Abort a job on its owner's (or a job manager's) request.

    ``again_is_fine``: aborting an aborted job changes nothing and is no error
    (UWS's PHASE=ABORT); otherwise any ended job answers 409.
    """
    job = job_access(caller=caller, job_id=job_id, use=Use.CONTROL)
    if again_is_fine and job.status == Status.ABORTED:
        return job
    return job_abort(job_id=job.job_id, message=f"Aborted on request of {caller.sub or 'a public caller'}.")


def job_archive_for(*, caller: Caller, job_id: str, message: str = "Deleted by its owner.") -> Job:
    """Take a job out of the UWS job list (its owner deleted it); a running job is aborted first.

    The record, its events and its products stay: the job is still the one that
    answers an identical request (the job id is the hash of the request).
    """
    job = job_access(caller=caller, job_id=job_id, use=Use.CONTROL)
    if not job.is_terminal:
        try:
            job_abort(job_id=job.job_id, message=message)
        except IllegalTransition:
            pass  # it ended meanwhile: archived as it ended
    return job_set_archived(job_id=job.job_id, archived=True)


def job_run_again_for(*, caller: Caller, job_id: str) -> Job:
    """Run a failed or aborted job again, as its next attempt; any other job answers 409."""
    job = job_access(caller=caller, job_id=job_id, use=Use.CONTROL)
    if job.status not in RUN_AGAIN_FROM:
        raise IllegalTransition(job.job_id, job.status, "a new attempt (only a failed or aborted job runs again)")
    return job_run(job_id=job.job_id)
