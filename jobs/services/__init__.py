"""The application layer of the job registry: every write, each validating then acting.

Interfaces (ODA protocol, REST, UWS, the job page, the admin, commands, tasks)
import from here and nowhere deeper; reads for a caller go through ``jobs.access``.

- submission: ``job_submit`` (validate, create or join, start; a failed job joined runs again),
  ``job_run`` (start a pending job, or run a failed or aborted one again)
- running: ``job_execute``, ``job_poll``, ``job_callback``, ``job_finish``, ``job_fail``,
  ``jobs_fail_stale``, ``jobs_requeue`` (what tasks, backends and the task timer drive)
- control: ``job_abort_for``, ``job_archive_for``, ``job_run_again_for`` (what an owner or a job
  manager may do), ``job_abort``
- purge: ``jobs_purge``, ``jobs_remove``
- progress: ``job_progress_page`` (the backend's page of a job's progress; a read, asked of the adapter)
- records: ``job_record_notification`` (the notifications app keeps its outcomes in the history)
"""

from jobs.services.control import job_abort, job_abort_for, job_archive_for, job_run_again_for
from jobs.services.progress import ProgressPage, job_progress_page
from jobs.services.purge import PURGEABLE, PurgeReport, jobs_purge, jobs_remove
from jobs.services.records import job_get_or_create, job_move, job_record_notification
from jobs.services.running import (
    job_callback,
    job_complete_from_report,
    job_execute,
    job_fail,
    job_finish,
    job_poll,
    jobs_fail_stale,
    jobs_requeue,
)
from jobs.services.submission import (
    QUERY_TYPES,
    Submitted,
    instrument_for_caller,
    instrument_resource_for_caller,
    instruments_for_caller,
    job_run,
    job_submit,
)

__all__ = [
    "PURGEABLE",
    "QUERY_TYPES",
    "ProgressPage",
    "PurgeReport",
    "Submitted",
    "instrument_for_caller",
    "instrument_resource_for_caller",
    "instruments_for_caller",
    "job_abort",
    "job_abort_for",
    "job_archive_for",
    "job_callback",
    "job_complete_from_report",
    "job_execute",
    "job_fail",
    "job_finish",
    "job_get_or_create",
    "job_move",
    "job_poll",
    "job_progress_page",
    "job_record_notification",
    "job_run",
    "job_run_again_for",
    "job_submit",
    "jobs_fail_stale",
    "jobs_purge",
    "jobs_remove",
    "jobs_requeue",
]
