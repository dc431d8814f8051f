"""The job state machine: status only ever moves forward."""

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
