"""Errors of the job registry, each a ServiceError a user or operator can act on."""

from __future__ import annotations

from dispatcher_site.errors import InvalidRequest, ServiceError, ServiceUnavailable

__all__ = [
    "IllegalTransition",
    "InvalidRequest",
    "JobError",
    "JobForbidden",
    "JobNotFound",
    "LinkRefused",
    "ProductsUnavailable",
    "QueueUnavailable",
]


class JobError(ServiceError):
    """Base of the errors about one job."""

    code = "job_error"


class JobNotFound(JobError):
    status_code = 404
    code = "job_not_found"

    def __init__(self, job_id: str):
        super().__init__(f"No job with id {job_id!r}.")
        self.job_id = job_id


class IllegalTransition(JobError):
    status_code = 409
    code = "illegal_transition"

    def __init__(self, job_id: str, current: str, target: str):
        super().__init__(f"Job {job_id} is {current}; it cannot move to {target}.")
        self.job_id = job_id
        self.current = current
        self.target = target


class JobForbidden(JobError):
    """The job exists but is not the caller's; the text says nothing about whose it is or what it holds."""

    status_code = 403
    code = "job_forbidden"

    def __init__(self, message: str = "You are not allowed to access this job.") -> None:
        super().__init__(message)


class LinkRefused(JobForbidden):
    """A page link or call-back signature that is forged, altered, for another job, or expired."""

    code = "link_refused"


class ProductsUnavailable(JobError):
    """A download of products the job does not have (yet)."""

    code = "products_unavailable"


class QueueUnavailable(ServiceUnavailable):
    """The task broker did not take a task (Redis down, the ORM broker's database locked)."""

    code = "queue_unavailable"

    def __init__(self) -> None:
        super().__init__("The task queue cannot be reached right now; please try again in a minute.", retry_after_s=30)
