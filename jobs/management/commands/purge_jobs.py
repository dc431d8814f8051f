import math

from django.core.management.base import BaseCommand, CommandError

from dispatcher_site.progress import ProgressBar
from jobs.services import PURGEABLE, jobs_purge

LISTED_MAX = 50


class Command(BaseCommand):
    help = (
        "Remove finished jobs (done, failed, aborted) created more than DAYS ago: their rows, events, "
        "deliveries and product files together. Running jobs are never removed. Exit code 0 on success, "
        "1 on a bad argument."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--older-than", type=float, required=True, metavar="DAYS", help="age in days (fractions allowed)"
        )
        parser.add_argument("--status", choices=PURGEABLE, help="only jobs that ended with this status")
        parser.add_argument("--dry-run", action="store_true", help="report what would be removed, remove nothing")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar (on stderr)")

    def handle(self, *args, older_than: float, status: str | None, dry_run: bool, no_progress: bool, **options):
        if not math.isfinite(older_than) or older_than < 0:
            raise CommandError("--older-than must be a number of days, 0 or more")
        bar = ProgressBar(self.stderr, label="jobs", enabled=not no_progress)
        report = jobs_purge(older_than_days=older_than, status=status, dry_run=dry_run, progress=bar)
        bar.finish()
        if dry_run or options["verbosity"] >= 2:
            for job_id in report.job_ids[:LISTED_MAX]:
                self.stdout.write(f"  {job_id}")
            if report.jobs > LISTED_MAX:
                self.stdout.write(f"  ... and {report.jobs - LISTED_MAX} more")
        self.stdout.write(("Dry run: " if dry_run else "") + report.summary() + ".")
