import math

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from dispatcher_site.progress import ProgressBar
from jobs.models import Job
from jobs.services import PURGEABLE, jobs_purge

LISTED_MAX = 50
# As argparse exits on an unusable argument: one exit code for every bad argument.
BAD_ARGUMENT = 2


class Command(BaseCommand):
    help = (
        "Remove jobs that hold no worker, created more than DAYS ago: finished ones (done, failed, aborted) "
        "and UWS jobs that were never run (pending); their rows, events, deliveries and product files "
        "together. Running jobs are never removed. Exit code 0 on success, 2 on an unusable argument."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--older-than", type=float, required=True, metavar="DAYS", help="age in days (fractions allowed)"
        )
        parser.add_argument(
            "--status", choices=PURGEABLE, help="only jobs in this status (pending: UWS jobs never run)"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="list what would be removed (id, status, age), remove nothing"
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar (on stderr)")

    def handle(self, *args, older_than: float, status: str | None, dry_run: bool, no_progress: bool, **options):
        if not math.isfinite(older_than) or older_than < 0:
            raise CommandError("--older-than must be a number of days, 0 or more", returncode=BAD_ARGUMENT)
        bar = ProgressBar(self.stderr, label="jobs", enabled=not no_progress)
        report = jobs_purge(older_than_days=older_than, status=status, dry_run=dry_run, progress=bar)
        bar.finish()
        if dry_run or options["verbosity"] >= 2:
            self._list(report.job_ids[:LISTED_MAX], known=_known(report.job_ids[:LISTED_MAX]) if dry_run else {})
            if report.jobs > LISTED_MAX:
                self.stdout.write(f"  ... and {report.jobs - LISTED_MAX} more")
        self.stdout.write(("Dry run: " if dry_run else "") + report.summary() + ".")

    def _list(self, job_ids: list[str], *, known: dict[str, tuple[str, float]]) -> None:
        for job_id in job_ids:
            if job_id in known:
                status, age_days = known[job_id]
                self.stdout.write(f"  {job_id}  {status:<8} {age_days:6.1f} days old")
            else:  # removed already: only its id is left to show
                self.stdout.write(f"  {job_id}")


def _known(job_ids: list[str]) -> dict[str, tuple[str, float]]:
    """Status and age in days of the listed jobs (a dry run leaves them in place)."""
    now = timezone.now()
    rows = Job.objects.filter(job_id__in=job_ids).values_list("job_id", "status", "created_at")
    return {job_id: (status, (now - created).total_seconds() / 86400) for job_id, status, created in rows}
