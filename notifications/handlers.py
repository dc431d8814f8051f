"""Receivers of the jobs app's signals."""

from __future__ import annotations

import logging

from jobs.models import JobEvent
from notifications.deliveries import notifications_enqueue_for_event

logger = logging.getLogger(__name__)


def on_job_event(sender: type, *, event: JobEvent, **kwargs: object) -> None:
    # Runs after the job's transaction committed, inside the caller's request:
    # a notification problem must never turn into an error of the job's request.
    try:
        notifications_enqueue_for_event(event=event)
    except Exception:
        logger.exception("could not enqueue notifications for job event %s", event.pk)
