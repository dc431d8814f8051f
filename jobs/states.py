"""The job state machine: status moves forward within an attempt.

The one move back is a new attempt: a failed or aborted job asked for again runs
again under the same id (``RUN_AGAIN_FROM``; jobs.services.records.job_attempt_again).
"""

from __future__ import annotations

from django.db import models


class Status(models.TextChoices):
    # Created but not asked to run yet (UWS phase PENDING): only the UWS interface creates
    # jobs here, and PHASE=RUN moves them on to submitted. An ODA protocol request that
    # joins a pending job starts it (jobs.services.submission).
    PENDING = "pending"
    SUBMITTED = "submitted"
    PROGRESS = "progress"
    DONE = "done"
    FAILED = "failed"
    ABORTED = "aborted"


TERMINAL = frozenset({Status.DONE, Status.FAILED, Status.ABORTED})

# For each target status, the statuses a job may be in to move there.
# progress -> progress is allowed: every progress report restates it.
ALLOWED_FROM: dict[str, frozenset[str]] = {
    Status.PENDING: frozenset(),
    Status.SUBMITTED: frozenset({Status.PENDING}),
    Status.PROGRESS: frozenset({Status.SUBMITTED, Status.PROGRESS}),
    Status.DONE: frozenset({Status.SUBMITTED, Status.PROGRESS}),
    Status.FAILED: frozenset({Status.SUBMITTED, Status.PROGRESS}),
    Status.ABORTED: frozenset({Status.PENDING, Status.SUBMITTED, Status.PROGRESS}),
}

# A job in one of these may run again, as its next attempt.
RUN_AGAIN_FROM = frozenset({Status.FAILED, Status.ABORTED})
