"""The words of notifications, defined once: the models store them, the policy decides with them.

Plain string enums (Django's TextChoices need neither a database nor settings), so
``notifications.policy`` stays pure while sharing them with ``notifications.models``.
"""

from __future__ import annotations

from django.db.models import TextChoices


class Channel(TextChoices):
    EMAIL = "email"
    MATRIX = "matrix"


class Event(TextChoices):
    """The job events that may be notified."""

    SUBMITTED = "submitted"
    DONE = "done"
    FAILED = "failed"
    # Not a job event: a person's report of a problem with a job, sent to the operators (/report_incident).
    INCIDENT = "incident"


class Outcome(TextChoices):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    REFUSED = "refused"
    SKIPPED = "skipped"


class Role(TextChoices):
    """Why a recipient gets a delivery."""

    OWNER = "owner"  # the job's owner, whose outcomes go into the job's history
    BCC = "bcc"  # a site copy
    INCIDENT = "incident"  # an operators' room, told of every failure


class Content(TextChoices):
    """What a delivery carries."""

    MESSAGE = "message"  # the notice's words
    PREVIEW = "preview"  # the picture of a done job's main product, after its Matrix message (m.image)
