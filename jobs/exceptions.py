"""Errors of the job registry, each a value a user or operator can act on."""


class JobError(Exception):
    """Base of every error the jobs app raises on purpose."""

    status_code = 400


class JobNotFound(JobError):
    status_code = 404

    def __init__(self, job_id: str):
        super().__init__(f"No job with id {job_id!r}.")
        self.job_id = job_id


class IllegalTransition(JobError):
    status_code = 409

    def __init__(self, job_id: str, current: str, target: str):
        super().__init__(f"Job {job_id} is {current}; it cannot move to {target}.")
        self.job_id = job_id
        self.current = current
        self.target = target


class InvalidRequest(JobError):
    """A request the protocol cannot act on: a missing or malformed field."""

    status_code = 400


class JobForbidden(JobError):
    """The job exists but is not the caller's; the text says nothing about whose it is or what it holds."""

    status_code = 403

    def __init__(self) -> None:
        super().__init__("You are not allowed to access this job.")
