from django.core.management.base import BaseCommand, CommandError

from dispatcher_site.progress import ProgressBar
from jobs.models import Job


class Command(BaseCommand):
    help = (
        "Send a job's notifications again through the notifications service (delivery_resend): the "
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
        # jobs never imports notifications in its core; this command is an operator's tool that uses both.
        from notifications.models import Delivery, Outcome
        from notifications.services import delivery_resend

        found = _job(job)
        outcomes = [Outcome.FAILED, Outcome.PENDING] + ([Outcome.SENT] if include_sent else [])
        deliveries = list(Delivery.objects.filter(job=found, outcome__in=outcomes).order_by("id"))
        if not deliveries:
            self.stdout.write(f"Job {found.job_id}: no delivery to resend.")
            return
        bar = ProgressBar(self.stderr, label="deliveries", enabled=not no_progress)
        for done, delivery in enumerate(deliveries, start=1):
            resent = delivery_resend(delivery_id=delivery.pk)
            self.stdout.write(f"  {delivery.channel} {delivery.event} to {delivery.recipient}: queued as #{resent.pk}")
            bar(done, len(deliveries))
        bar.finish()
        self.stdout.write(f"Job {found.job_id}: {len(deliveries)} deliveries queued to be sent again.")


def _job(reference: str) -> Job:
    reference = reference.strip().lower()
    if len(reference) < 8:
        raise CommandError("--job needs the job id or at least its first 8 characters")
    candidates = list(Job.objects.filter(job_id__startswith=reference)[:2])
    if not candidates:
        raise CommandError(f"no job {reference!r}")
    if len(candidates) > 1:
        raise CommandError(f"{reference!r} names more than one job; give more of its id")
    return candidates[0]
