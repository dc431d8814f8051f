"""Purging the job registry: old jobs, or jobs staff chose, rows and product files together.

A purge removes rows (with their events and every row that hangs off them) and
the product files together, in batches, and reports what it removed. It never
touches a job that is still running: the stale-job sweep ends those first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from jobs.models import Job, JobEvent
from jobs.products import products_dir, products_remove
from jobs.states import TERMINAL, Status

log = logging.getLogger(__name__)

# Jobs that hold no worker: finished ones, and UWS jobs that were never RUN.
PURGEABLE = tuple(sorted(TERMINAL | {Status.PENDING}))
BATCH_SIZE = 200
Progress = Callable[[int, int], None]


@dataclass
class PurgeReport:
    """What a purge removed (or, in a dry run, would remove)."""

    dry_run: bool = False
    job_ids: list[str] = field(default_factory=list)
    events: int = 0
    product_dirs: int = 0
    product_bytes: int = 0

    @property
    def jobs(self) -> int:
        return len(self.job_ids)

    def summary(self) -> str:
        verb = "would remove" if self.dry_run else "removed"
        return (
            f"{verb} {self.jobs} job(s), {self.events} event(s), "
            f"{self.product_dirs} product folder(s) ({self.product_bytes} bytes)"
        )


def jobs_purge(
    *,
    older_than_days: float,
    status: str | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> PurgeReport:
    """Remove finished (or never started) jobs created more than ``older_than_days`` ago,
    rows and files together.

    ``status`` narrows it to one of them (done, failed, aborted or pending).
    """
    if status is not None and status not in PURGEABLE:
        raise ValueError(f"status must be one of {', '.join(PURGEABLE)}, not {status!r}")
    cutoff = timezone.now() - timedelta(days=older_than_days)
    # Served by the index job_status_created (status, -created_at).
    old = Job.objects.filter(created_at__lt=cutoff, status__in=[status] if status else PURGEABLE)
    job_ids = list(old.order_by("created_at").values_list("job_id", flat=True))
    return jobs_remove(job_ids=job_ids, dry_run=dry_run, progress=progress)


def jobs_remove(*, job_ids: Iterable[str], dry_run: bool = False, progress: Progress | None = None) -> PurgeReport:
    """Remove these jobs (rows, events, deliveries) and their product files, in batches."""
    job_ids = list(job_ids)
    report = PurgeReport(dry_run=dry_run)
    for start in range(0, len(job_ids), BATCH_SIZE):
        batch = job_ids[start : start + BATCH_SIZE]
        _remove_batch(batch, report, dry_run=dry_run)
        if progress is not None:
            progress(min(start + BATCH_SIZE, len(job_ids)), len(job_ids))
    if job_ids and not dry_run:
        log.info("purge: %s", report.summary())
    return report


def _remove_batch(batch: list[str], report: PurgeReport, *, dry_run: bool) -> None:
    with transaction.atomic():
        jobs = Job.objects.select_for_update().filter(job_id__in=batch, status__in=PURGEABLE)
        found = list(jobs.values_list("job_id", flat=True))
        report.events += JobEvent.objects.filter(job__job_id__in=found).count()
        if not dry_run:
            Job.objects.filter(job_id__in=found).delete()
    report.job_ids += found
    for job_id in found:
        # Files go after the rows are gone: a reader never finds a job without its files.
        size = _folder_size(job_id)
        if size is None:
            continue
        report.product_dirs += 1
        report.product_bytes += size
        if not dry_run:
            products_remove(job_id)


def _folder_size(job_id: str) -> int | None:
    folder = products_dir(job_id)
    if not folder.is_dir():
        return None
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())
