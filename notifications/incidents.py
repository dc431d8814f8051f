"""Incident reports: a person tells the operators about a problem with a job (/report_incident).

The report is kept (``IncidentReport``) and delivered like any notice, as one
``Delivery`` per recipient: by email to ``DISPATCHER_INCIDENT_EMAILS`` and to the
Matrix rooms of ``DISPATCHER_MATRIX_INCIDENT_ROOMS``. Each is tried once at once,
since the person waits for the answer; a failure worth retrying goes on in the
send task, with its bounded retries.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from dispatcher_site.auth import Caller
from jobs.models import Job
from notifications.deliveries import delivery_try_now, status_text
from notifications.models import Delivery, IncidentReport
from notifications.selectors import site_rules
from notifications.vocabulary import Channel, Event, Outcome, Role

# The earlier dispatcher's words, which its frontend shows.
_ANSWER_WORDS = {
    (Channel.EMAIL, Outcome.SENT): "incident report email successfully sent",
    (Channel.MATRIX, Outcome.SENT): "incident report message successfully sent via matrix",
    (Channel.MATRIX, Outcome.FAILED): "sending of an incident report message via matrix failed",
}


@dataclass(frozen=True)
class IncidentOutcome:
    report: IncidentReport
    deliveries: list[Delivery]

    def status(self, channel: str) -> str:
        """One sentence per channel: sent, failed, queued for another attempt, or why nothing was sent."""
        mine = [d for d in self.deliveries if d.channel == channel]
        if not mine:
            return f"{status_text(channel=channel, outcome=Outcome.SKIPPED)}: no operators' {channel} configured"
        worst = next((d for d in mine if d.outcome != Outcome.SENT), mine[0])
        if worst.outcome == Outcome.PENDING:
            return f"{status_text(channel=channel, outcome=Outcome.SKIPPED)} yet: it will be tried again"
        return _ANSWER_WORDS.get((channel, worst.outcome)) or status_text(channel=channel, outcome=worst.outcome)


def incident_report(
    *, job: Job, caller: Caller, description: str, session_id: str = "", incident_time: float | None = None
) -> IncidentOutcome:
    """Keep a caller's report on ``job`` (already checked by the access gate) and tell the operators."""
    with transaction.atomic():
        report = IncidentReport.objects.create(
            job=job,
            reporter=caller.sub,
            reporter_name=str(caller.claims.get("name") or "")[:255],
            session_id=session_id,
            description=description,
            incident_time=incident_time,
        )
        planned = [
            Delivery.objects.create(
                job=job, incident=report, event=Event.INCIDENT, channel=channel, recipient=recipient, role=Role.INCIDENT
            )
            for channel, recipient in _operators()
        ]
    for delivery in planned:
        delivery_try_now(delivery_id=delivery.pk)
        delivery.refresh_from_db()
    return IncidentOutcome(report=report, deliveries=planned)


def _operators() -> list[tuple[str, str]]:
    site = site_rules()
    recipients: list[tuple[str, str]] = []
    if site.email_enabled:
        recipients += [(Channel.EMAIL, address) for address in settings.INCIDENT_EMAILS]
    if site.matrix_enabled:
        recipients += [(Channel.MATRIX, room) for room in site.matrix_incident_rooms]
    return recipients
