"""The backend's own page of a job's progress (the frontend's "Return progress" link).

A read, not a write: nothing about the job changes. It lives here because asking
the instrument's adapter, and saying which instruments can, is the application's rule.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from instruments.base import AdapterError
from instruments.registry import instrument_get
from jobs.models import Job
from jobs.services.running import run_request_for
from jobs.states import Status

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProgressPage:
    """``pages``: HTML to show (the protocol's ``progress_product_html_output``); else ``comment`` says why none."""

    pages: list[str] = field(default_factory=list)
    comment: str = ""


def job_progress_page(*, job: Job) -> ProgressPage:
    """What the job's backend shows of its progress now, for adapters that serve it."""
    adapter = instrument_get(job.instrument).adapter
    if not adapter.returns_progress:
        return ProgressPage(comment=f"The instrument {job.instrument} does not show the progress of its jobs.")
    if job.status == Status.PENDING:
        return ProgressPage(comment="The job has not started yet: there is no progress to show.")
    try:
        page = adapter.progress_page(run_request_for(job))
    except AdapterError as error:
        log.info("job %s: no progress page: %s (%s)", job.job_id, error.message, error.debug)
        return ProgressPage(comment=f"The progress of the job could not be shown: {error.message}")
    return ProgressPage(pages=[page])
