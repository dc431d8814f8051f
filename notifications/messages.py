"""The words of every notification, rendered from templates/notifications/."""

from __future__ import annotations

from dataclasses import dataclass

from django.template.loader import render_to_string

from jobs.api_code import api_code_for
from jobs.models import Job
from jobs.previews import Preview
from notifications.links import dispatcher_url, job_link
from notifications.models import IncidentReport


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str
    # A picture that goes with it: inline in a mail's HTML (``image_id`` its Content-ID), an m.image in Matrix.
    image: Preview | None = None
    image_id: str = ""


def message_for_email(job: Job, *, event: str, preview: Preview | None = None) -> Message:
    """The notice as a mail; ``preview`` (a done job's) goes inline into its HTML part, the plain text unchanged."""
    image_id = f"preview-{job.job_id[:16]}@oda-dispatcher" if preview else ""
    context = {**_context(job, event=event), "preview": preview, "preview_cid": image_id}
    return Message(
        subject=_one_line(render_to_string("notifications/subject.txt", context)),
        text=render_to_string("notifications/email.txt", context),
        html=render_to_string("notifications/email.html", context),
        image=preview,
        image_id=image_id,
    )


def message_for_preview(job: Job, *, preview: Preview | None) -> Message:
    """A done job's preview for Matrix (an m.image), its body naming the job by its short id."""
    context = _context(job, event="done")
    return Message(
        subject="",
        text=_one_line(render_to_string("notifications/matrix_preview.txt", context)),
        html="",
        image=preview,
        image_id=f"preview-{job.job_id[:8]}.png",
    )


def message_for_matrix(job: Job, *, event: str) -> Message:
    context = _context(job, event=event)
    return Message(
        subject=_one_line(render_to_string("notifications/subject.txt", context)),
        text=render_to_string("notifications/matrix.txt", context).strip(),
        html=render_to_string("notifications/matrix.html", context).strip(),
    )


def message_for_status(job: Job | None, *, asked: str) -> Message:
    """The bot's answer to ``!status <asked>``; ``job`` None when it may not tell."""
    context = {"asked": asked, **(_context(job, event=job.status) if job else {"job": None})}
    return Message(
        subject="",
        text=render_to_string("notifications/status_reply.txt", context).strip(),
        html=render_to_string("notifications/status_reply.html", context).strip(),
    )


def message_for_incident(incident: IncidentReport) -> Message:
    """An incident report for the operators: who, which job, what they wrote."""
    context = {
        "incident": incident,
        "job": incident.job,
        "short_id": incident.job.job_id[:8],
        "reported_at": incident.created_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
        "link": job_link(incident.job),
    }
    html = render_to_string("notifications/incident.html", context)
    return Message(
        subject=_one_line(render_to_string("notifications/incident_subject.txt", context)),
        text=render_to_string("notifications/incident.txt", context).strip(),
        html=html.strip(),
    )


def _context(job: Job, *, event: str) -> dict[str, object]:
    return {
        "job": job,
        "event": event,
        "name": job.claims.get("name", ""),
        "short_id": job.job_id[:8],
        "requested_at": job.created_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
        "duration_s": job.duration_s,
        "link": job_link(job),
        "api_code": api_code_for(job, url=dispatcher_url()),
    }


def _one_line(text: str) -> str:
    # A header must not carry a newline (Django refuses it as header injection).
    return " ".join(text.split())
