"""The job state machine: status only ever moves forward."""

from __future__ import annotations

from django.db import models


class Status(models.TextChoices):
    SUBMITTED = "submitted"
    PROGRESS = "progress"
    DONE = "done"
    FAILED = "failed"
    ABORTED = "aborted"


TERMINAL = frozenset({Status.DONE, Status.FAILED, Status.ABORTED})

# For each target status, the statuses a job may be in to move there.
# progress -> progress is allowed: every progress report restates it.
ALLOWED_FROM: dict[str, frozenset[str]] = {
    Status.SUBMITTED: frozenset(),
    Status.PROGRESS: frozenset({Status.SUBMITTED, Status.PROGRESS}),
    Status.DONE: frozenset({Status.SUBMITTED, Status.PROGRESS}),
    Status.FAILED: frozenset({Status.SUBMITTED, Status.PROGRESS}),
    Status.ABORTED: frozenset({Status.SUBMITTED, Status.PROGRESS}),
}


def can_move(current: str, target: str) -> bool:
    return current in ALLOWED_FROM[target]
