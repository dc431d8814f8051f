"""``python manage.py resend_notifications --job ID [--all]``: a job's notifications, sent again."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from dispatcher_site.progress import ProgressBar
from jobs.models import Job
from notifications.deliveries import deliveries_resend
from notifications.selectors import JOB_PREFIX_MIN, jobs_by_prefix


class Command(BaseCommand):
    help = (
        "Send a job's notifications again through the notifications service (deliveries_resend): the "
        "deliveries that did not arrive (failed or stuck pending), or with --all also those that were sent. "
        "Sends happen in django-q2 tasks. Exit code 0 when queued (or nothing to resend), 1 when the job is "
        "unknown or ambiguous."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--job", required=True, metavar="ID", help="the job id, or a prefix of 8+ characters")
        parser.add_argument(
            "--all", dest="include_sent", action="store_true", help="resend deliveries that were sent as well"
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar (on stderr)")

    def handle(self, *args, job: str, include_sent: bool, no_progress: bool, **options) -> None:
        found = _job(job)
        bar = ProgressBar(self.stderr, label="deliveries", enabled=not no_progress)
        resent = deliveries_resend(job_ids=[found.job_id], include_sent=include_sent, progress=bar)
        if not resent:
            self.stdout.write(f"Job {found.job_id}: no delivery to resend.")
            return
        bar.finish()
        for delivery in resent:
            self.stdout.write(
                f"  {delivery.channel} {delivery.event} to {delivery.recipient}: queued as #{delivery.pk}"
            )
        self.stdout.write(f"Job {found.job_id}: {len(resent)} deliveries queued to be sent again.")


def _job(reference: str) -> Job:
    reference = reference.strip().lower()
    if len(reference) < JOB_PREFIX_MIN:
        raise CommandError(f"--job needs the job id or at least its first {JOB_PREFIX_MIN} characters")
    candidates = jobs_by_prefix(reference=reference)
    if not candidates:
        raise CommandError(f"no job {reference!r}")
    if len(candidates) > 1:
        raise CommandError(f"{reference!r} names more than one job; give more of its id")
    return candidates[0]
