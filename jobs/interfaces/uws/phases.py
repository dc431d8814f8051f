"""Our job statuses in the vocabulary of UWS 1.1 execution phases.

| our status              | UWS phase |
| ----------------------- | --------- |
| pending                 | PENDING   |
| submitted               | QUEUED    |
| progress                | EXECUTING |
| done                    | COMPLETED |
| failed                  | ERROR     |
| aborted                 | ABORTED   |
| any, with archived_at   | ARCHIVED  |

HELD, SUSPENDED and UNKNOWN are never used: nothing here holds or suspends a job.
"""

from __future__ import annotations

from collections.abc import Iterable

from jobs.models import Job
from jobs.states import Status

PENDING = "PENDING"
QUEUED = "QUEUED"
EXECUTING = "EXECUTING"
COMPLETED = "COMPLETED"
ERROR = "ERROR"
ABORTED = "ABORTED"
ARCHIVED = "ARCHIVED"
# Every phase of the standard, for validating a PHASE filter.
ALL_PHASES = frozenset(
    {PENDING, QUEUED, EXECUTING, COMPLETED, ERROR, ABORTED, ARCHIVED, "HELD", "SUSPENDED", "UNKNOWN"}
)
# A blocking request waits only while the job is in one of these (UWS 1.1, section 2.2.1.1).
ACTIVE_PHASES = frozenset({PENDING, QUEUED, EXECUTING})

PHASE_OF_STATUS: dict[str, str] = {
    Status.PENDING: PENDING,
    Status.SUBMITTED: QUEUED,
    Status.PROGRESS: EXECUTING,
    Status.DONE: COMPLETED,
    Status.FAILED: ERROR,
    Status.ABORTED: ABORTED,
}
STATUS_OF_PHASE: dict[str, str] = {phase: status for status, phase in PHASE_OF_STATUS.items()}


def phase_for(status: str, *, archived: bool) -> str:
    return ARCHIVED if archived else PHASE_OF_STATUS[status]


def job_phase(job: Job) -> str:
    return phase_for(job.status, archived=job.is_archived)


def statuses_of(phases: Iterable[str]) -> frozenset[str]:
    """Our statuses behind the execution ``phases`` (upper-case, valid); ARCHIVED and the unused ones have none."""
    return frozenset(STATUS_OF_PHASE[phase] for phase in phases if phase in STATUS_OF_PHASE)
