"""The writes of deliveries: planning them from job events, sending, and sending again.

A done notice carries the job's preview (``jobs.previews``, drawn here, in the worker
that sends, and kept with the products): inline in the mail; in Matrix as an
m.image delivery of its own (``Content.PREVIEW``) that follows the text once the
room took it, so a refused upload leaves the text delivered and fails the image
alone. Its outcome stays on its row: the job's history and the room's state tell
of the text message only. A job without a drawable product sends no image.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django_q.tasks import async_task

from jobs.models import Job, JobEvent
from jobs.previews import preview_make
from jobs.services import job_record_notification
from notifications import policy
from notifications.messages import (
    Message,
    message_for_email,
    message_for_incident,
    message_for_matrix,
    message_for_preview,
)
from notifications.models import Delivery
from notifications.rooms import room_record_send
from notifications.selectors import job_history, saved_options, site_rules
from notifications.transports import TransportError, transport_for
from notifications.vocabulary import Channel, Content, Event, Outcome, Role

logger = logging.getLogger(__name__)

# The words the protocol shows in exit_status.email_status / matrix_message_status.
_STATUS_TEXT = {
    (Channel.EMAIL, Outcome.SENT): "email sent",
    (Channel.EMAIL, Outcome.FAILED): "sending email failed",
    (Channel.MATRIX, Outcome.SENT): "matrix message sent",
    (Channel.MATRIX, Outcome.FAILED): "sending message via matrix failed",
}
_NOT_SENT = {Channel.EMAIL: "email not sent", Channel.MATRIX: "matrix message not sent"}
# A task must end well inside the broker's retry window, however many attempts are allowed.
_MAX_PAUSE_S = 30.0


def notifications_enqueue_for_event(*, event: JobEvent) -> None:
    """Plan this job event's deliveries in a task, once the event's transaction commits."""
    if notice_of(event) is None:
        return
    if not _may_notify(event.job):
        # Decided here, not in a task: most jobs of a busy site are public, and a
        # task per event would double the queue's work for nothing.
        return
    event_id = event.pk
    transaction.on_commit(lambda: async_task("notifications.tasks.plan_event", event_id, group="notifications"))


def notice_of(event: JobEvent) -> str | None:
    """Which notice a job event may call for: submitted, done, failed, or None.

    A resubmission by the owner keeps the job's status but counts as "submitted".
    """
    if event.kind != JobEvent.Kind.STATUS:
        return None
    notice = Event.SUBMITTED if event.data.get("resubmitted") else event.status
    return notice if notice in Event.values and notice != Event.INCIDENT else None


def _may_notify(job: Job) -> bool:
    """Could any delivery come of this job's events? Public jobs are never notified."""
    site = site_rules()
    return bool(job.owner) and (site.email_enabled or site.matrix_enabled)


def notifications_plan(*, event_id: int) -> list[int]:
    """Create the deliveries a job event calls for; returns the ids of those to send.

    Idempotent: an event planned before (a task delivered twice) plans nothing.
    """
    event = JobEvent.objects.select_related("job").filter(pk=event_id).first()
    if event is None or notice_of(event) is None:
        return []
    if Delivery.objects.filter(source_event_id=event_id).exists():
        return []
    job = event.job
    plans = policy.plan_deliveries(
        event=notice_of(event),
        owner=job.owner,
        duration_s=job.duration_s,
        claims=job.claims,
        saved=saved_options(owner=job.owner),
        site=site_rules(),
        history=job_history(job=job),
        now=timezone.now(),
    )
    deliveries = [d for d in (_delivery_create(job=job, event_id=event_id, plan=plan) for plan in plans) if d]
    for delivery in deliveries:
        if delivery.outcome == Outcome.PENDING:
            _enqueue_send(delivery.pk)
        else:
            _record_outcome(delivery)
    return [d.pk for d in deliveries if d.outcome == Outcome.PENDING]


def delivery_send(*, delivery_id: int) -> str:
    """Send a pending delivery, with bounded retries; returns its outcome.

    Idempotent: a delivery already sent, failed or being sent by another worker is left alone.
    """
    if not _claim(delivery_id):
        return Delivery.objects.filter(pk=delivery_id).values_list("outcome", flat=True).first() or ""
    delivery = Delivery.objects.select_related("job").get(pk=delivery_id)
    message = _message(delivery)
    transport = transport_for(delivery.channel)
    # Half the task timeout: the task must end before django-q2 hands it to another worker.
    deadline = time.monotonic() + settings.TASK_TIMEOUT_S / 2
    for attempt in range(1, settings.NOTIFY_MAX_ATTEMPTS + 1):
        error = _attempt(delivery, transport, message)
        if error is None:
            outcome = _finish(delivery, outcome=Outcome.SENT)
            _preview_follow(delivery)
            return outcome
        pause = min(settings.NOTIFY_RETRY_DELAY_S * 2 ** (attempt - 1), _MAX_PAUSE_S)
        if error.permanent or attempt == settings.NOTIFY_MAX_ATTEMPTS or time.monotonic() + pause > deadline:
            return _finish(delivery, outcome=Outcome.FAILED, error=error)
        # Short pauses inside the task: notices are only useful while fresh, and a
        # longer outage is better ended by a resend than by a late message.
        time.sleep(pause)
    return delivery.outcome


def deliveries_resend(
    *,
    delivery_ids: Iterable[int] | None = None,
    job_ids: Iterable[str] | None = None,
    include_sent: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> list[Delivery]:
    """Send deliveries again, one by one through delivery_resend; returns the rows that will be sent.

    Give one of: ``delivery_ids``, exactly those, whatever became of them (staff chose
    them); or ``job_ids``, those of the jobs' deliveries that did not arrive (failed, or
    stuck pending), and with ``include_sent`` also those that were sent.
    ``progress(done, total)`` hears of each one, for a command's progress bar.
    """
    chosen = list(_to_resend(delivery_ids=delivery_ids, job_ids=job_ids, include_sent=include_sent))
    resent = []
    for done, delivery_id in enumerate(chosen, start=1):
        resent.append(delivery_resend(delivery_id=delivery_id))
        if progress:
            progress(done, len(chosen))
    return resent


def _to_resend(*, delivery_ids: Iterable[int] | None, job_ids: Iterable[str] | None, include_sent: bool) -> QuerySet:
    """The ids of the deliveries to send again, oldest first."""
    if (delivery_ids is None) == (job_ids is None):
        raise ValueError("deliveries_resend needs either delivery_ids or job_ids")
    if delivery_ids is not None:
        if include_sent:
            raise ValueError("include_sent chooses among a job's deliveries; delivery_ids are resent as they are")
        rows = Delivery.objects.filter(pk__in=delivery_ids)
    else:
        outcomes = [Outcome.FAILED, Outcome.PENDING] + ([Outcome.SENT] if include_sent else [])
        rows = Delivery.objects.filter(job__job_id__in=job_ids, outcome__in=outcomes)
    return rows.order_by("id").values_list("pk", flat=True)


def delivery_resend(*, delivery_id: int) -> Delivery:
    """Try a delivery again: the same row if it never arrived, a new copy if it did.

    Reusing the row keeps its Matrix transaction id, so if the lost attempt did
    reach the room, the homeserver drops the repeat instead of posting twice.
    """
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().get(pk=delivery_id)
        if delivery.outcome in (Outcome.FAILED, Outcome.PENDING):
            delivery.outcome, delivery.error, delivery.claimed_at = Outcome.PENDING, "", None
            delivery.save(update_fields=["outcome", "error", "claimed_at", "updated_at"])
        else:
            delivery = Delivery.objects.create(
                job=delivery.job,
                incident=delivery.incident,
                event=delivery.event,
                channel=delivery.channel,
                recipient=delivery.recipient,
                bcc=delivery.bcc,
                role=delivery.role,
                content=delivery.content,
                reason=f"resent from delivery {delivery.pk}",
            )
        _enqueue_send(delivery.pk)
    return delivery


def status_text(*, channel: str, outcome: str, reason: str = "") -> str:
    """The protocol's words for an outcome, e.g. "email sent"."""
    known = _STATUS_TEXT.get((channel, outcome))
    if known:
        return known
    return f"{_NOT_SENT[channel]}: {reason}" if reason else _NOT_SENT[channel]


def _delivery_create(*, job: Job, event_id: int, plan: policy.Planned) -> Delivery | None:
    fields = {
        "job": job,
        "source_event_id": event_id,
        "event": plan.event,
        "channel": plan.channel,
        "recipient": plan.recipient,
        "bcc": list(plan.bcc),
        "role": plan.role,
        "outcome": plan.outcome,
        "reason": plan.reason,
    }
    if plan.event == Event.DONE and plan.outcome == Outcome.PENDING:
        fields["once_key"] = f"{job.pk}:done:{plan.channel}:{plan.recipient}"
    try:
        with transaction.atomic():
            return Delivery.objects.create(**fields)
    except IntegrityError:
        if Delivery.objects.filter(source_event_id=event_id, channel=plan.channel, recipient=plan.recipient).exists():
            return None  # this event was planned by a twin task
        # Another worker planned "done" for this recipient first.
        fields.update(once_key=None, outcome=Outcome.REFUSED, reason="done was already notified for this job")
        return Delivery.objects.create(**fields)


def _claim(delivery_id: int) -> bool:
    """Take a pending delivery for this worker with one conditional UPDATE."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.TASK_TIMEOUT_S)
    free = Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale)
    return bool(Delivery.objects.filter(free, pk=delivery_id, outcome=Outcome.PENDING).update(claimed_at=now))


def delivery_try_now(*, delivery_id: int) -> str:
    """One attempt at once, for a person waiting for the answer; returns the outcome.

    A failure worth retrying leaves the delivery pending and queues its send task
    (bounded retries, as any delivery's); a permanent one ends it failed.
    """
    if not _claim(delivery_id):
        return Delivery.objects.filter(pk=delivery_id).values_list("outcome", flat=True).first() or ""
    delivery = Delivery.objects.select_related("job", "incident").get(pk=delivery_id)
    error = _attempt(delivery, transport_for(delivery.channel), _message(delivery))
    if error is None or error.permanent:
        return _finish(delivery, outcome=Outcome.FAILED if error else Outcome.SENT, error=error)
    delivery.claimed_at = None
    delivery.save(update_fields=["claimed_at", "updated_at"])
    _enqueue_send(delivery.pk)
    return delivery.outcome


def _message(delivery: Delivery) -> Message:
    if delivery.incident_id is not None:
        return message_for_incident(delivery.incident)
    if delivery.content == Content.PREVIEW:
        return message_for_preview(delivery.job, preview=preview_make(delivery.job))
    if delivery.channel == Channel.EMAIL:
        preview = preview_make(delivery.job) if delivery.event == Event.DONE else None
        return message_for_email(delivery.job, event=delivery.event, preview=preview)
    return message_for_matrix(delivery.job, event=delivery.event)


def _preview_follow(delivery: Delivery) -> None:
    """Once a done message reached a Matrix room, the job's preview follows it there, as a delivery of its own.

    Outside any transaction: drawing it (the first time) takes a fraction of a second.
    """
    if (delivery.channel, delivery.event, delivery.content) != (Channel.MATRIX, Event.DONE, Content.MESSAGE):
        return
    if preview_make(delivery.job) is None:
        return  # nothing drawable: no image, and nothing said about it
    try:
        with transaction.atomic():
            image = Delivery.objects.create(
                job=delivery.job,
                event=Event.DONE,
                channel=Channel.MATRIX,
                recipient=delivery.recipient,
                role=delivery.role,
                content=Content.PREVIEW,
                # One preview per job and room, whatever resends of the message or twin tasks do.
                once_key=f"{delivery.job.pk}:done:{Channel.MATRIX}:{delivery.recipient}:preview",
                reason=f"the preview after delivery {delivery.pk}",
            )
    except IntegrityError:
        return
    _enqueue_send(image.pk)


def _attempt(delivery: Delivery, transport, message: Message) -> TransportError | None:
    started = time.monotonic()
    try:
        transport.send(delivery, message)
        error = None
    except TransportError as exc:
        error = exc
        logger.warning("delivery %s (%s to %s) failed: %s", delivery.pk, delivery.channel, delivery.recipient, exc)
    delivery.attempts += 1
    delivery.duration_s = time.monotonic() - started
    delivery.error = str(error) if error else ""
    delivery.save(update_fields=["attempts", "duration_s", "error", "updated_at"])
    return error


def _finish(delivery: Delivery, *, outcome: str, error: TransportError | None = None) -> str:
    # The delivery's outcome and the job's history change together: no reader sees one without the other.
    with transaction.atomic():
        delivery.outcome = outcome
        delivery.claimed_at = None
        delivery.save(update_fields=["outcome", "claimed_at", "updated_at"])
        if delivery.content == Content.PREVIEW:
            return outcome  # an image that did not go says nothing of the room, nor of the notice
        if delivery.channel == Channel.MATRIX:
            room_record_send(room_id=delivery.recipient, error=error)
        _record_outcome(delivery)
    return outcome


def _record_outcome(delivery: Delivery) -> None:
    """Keep the owner's outcome in the job's history; site copies stay on the delivery."""
    if delivery.role != Role.OWNER:
        return
    text = status_text(channel=delivery.channel, outcome=delivery.outcome, reason=delivery.reason)
    job_record_notification(
        job_id=delivery.job.job_id,
        message=f"{text} ({delivery.event})",
        data={
            "channel": delivery.channel,
            "event": delivery.event,
            "outcome": delivery.outcome,
            "status_text": text,
            "delivery_id": delivery.pk,
        },
    )


def _enqueue_send(delivery_id: int) -> None:
    transaction.on_commit(lambda: async_task("notifications.tasks.send_delivery", delivery_id, group="notifications"))
