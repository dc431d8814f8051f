"""What UWS tells about a job that the job registry holds elsewhere or implies.

executionDuration is the instrument's time limit (the stale-job sweep ends a job
its backend left silent that long): it is the server's to choose, so a client's
EXECUTIONDURATION is read and answered with this value. destruction is when the
retention policy (DISPATCHER_RETENTION_DAYS) lets ``purge_jobs`` remove a job.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from instruments.exceptions import InstrumentError
from instruments.registry import instrument_get
from jobs.models import Job
from jobs.products import UnsafeFileName, product_file_path, product_files
from jobs.states import Status

RESULT_ID = "result"


@dataclass(frozen=True)
class ResultFile:
    name: str
    size: int | None
    mime_type: str


def execution_duration_s(job: Job) -> int:
    """Seconds the job may run; 0 (unlimited, in UWS) when the instrument is gone."""
    try:
        return max(0, int(instrument_get(job.instrument).timeout_s))
    except InstrumentError:
        return 0


def destruction_time(job: Job) -> datetime:
    return job.created_at + timedelta(days=settings.RETENTION_DAYS)


def error_message(job: Job) -> str | None:
    """Why the job failed or was aborted; None for a job without an error."""
    if job.status in (Status.FAILED, Status.ABORTED):
        return job.message or f"The job was {job.status}."
    return None


def result_files(job: Job) -> list[ResultFile]:
    """The product files of a done job, as UWS results beside the main result."""
    if job.status != Status.DONE:
        return []
    files = []
    for name in product_files(job):
        try:
            path = product_file_path(job, name)
            size = path.stat().st_size
        except (UnsafeFileName, OSError):
            continue
        files.append(ResultFile(name, size, mimetypes.guess_type(name)[0] or "application/octet-stream"))
    return files
