"""Every read of the notifications app: the facts the policy decides on, and finding a job by its id's prefix."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db.models import Q

from jobs.models import Job
from notifications import policy
from notifications.matrix import matrix_configured
from notifications.models import Delivery, NotificationSettings
from notifications.vocabulary import Event, Outcome

# People paste the 8 characters that a mail's subject shows.
JOB_PREFIX_MIN = 8


def saved_options(*, owner: str) -> dict[str, object]:
    """The owner's saved channel preferences, under the token's option names."""
    if not owner:
        return {}
    saved = NotificationSettings.objects.filter(user__username=owner).first()
    return saved.as_options() if saved else {}


def site_rules() -> policy.SiteRules:
    return policy.SiteRules(
        defaults=settings.NOTIFY_DEFAULTS,
        email_enabled=bool(settings.EMAIL_HOST),
        matrix_enabled=matrix_configured(),
        email_bcc=tuple(settings.EMAIL_BCC),
        matrix_bcc_rooms=tuple(settings.MATRIX_BCC_ROOMS),
        matrix_incident_rooms=tuple(settings.MATRIX_INCIDENT_ROOMS),
    )


def job_history(*, job: Job) -> policy.History:
    """What earlier events of this job already caused, as the policy needs it."""
    last_submitted: dict[tuple[str, str], datetime] = {}
    done: set[tuple[str, str]] = set()
    rows = Delivery.objects.filter(job=job).filter(
        Q(event=Event.SUBMITTED, outcome__in=[Outcome.PENDING, Outcome.SENT]) | Q(once_key__isnull=False)
    )
    for channel, recipient, event, created_at in rows.values_list("channel", "recipient", "event", "created_at"):
        key = (channel, recipient)
        if event == Event.SUBMITTED:
            last_submitted[key] = max(created_at, last_submitted.get(key, created_at))
        else:
            done.add(key)
    return policy.History(last_submitted_at=last_submitted, done_planned=frozenset(done))


def jobs_by_prefix(*, reference: str) -> list[Job]:
    """The jobs whose id starts with ``reference``; none when it is shorter than JOB_PREFIX_MIN.

    At most two: enough to tell the one job from a prefix that names several.
    """
    reference = reference.strip().lower()
    if len(reference) < JOB_PREFIX_MIN:
        return []
    return list(Job.objects.filter(job_id__startswith=reference)[:2])
