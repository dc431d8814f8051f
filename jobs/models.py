from __future__ import annotations

from django.db import models

from jobs.states import TERMINAL, Status


class Job(models.Model):
    """One requested data product, identified by the hash of what was asked."""

    job_id = models.CharField("job id", max_length=64, unique=True)
    # The token's subject (an email); empty for public requests.
    owner = models.CharField(max_length=254, blank=True, default="")
    instrument = models.CharField(max_length=100)
    product_type = models.CharField(max_length=100)
    params = models.JSONField("normalized parameters", default=dict)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    query_type = models.CharField(max_length=16, default="Real")
    session_id = models.CharField(max_length=64, blank=True, default="")
    # The token's claims that matter after the request (name, roles, notification
    # options such as msdone or mxroomid); never the token itself.
    claims = models.JSONField(default=dict, blank=True)
    # Whatever the adapter needs to find the backend's work again (a URL, a ref).
    backend_ref = models.JSONField(default=dict, blank=True)
    # Which run of the job this is: a failed or aborted job asked for again runs again
    # under the same id, as attempt 2, 3... (its earlier attempts stay in its history).
    attempt = models.PositiveSmallIntegerField(default=1)
    # Calls of the backend in this attempt (a retry after a transient error, a call
    # made again after a worker died); bounded by jobs.services.running.MAX_BACKEND_CALLS.
    backend_calls = models.PositiveSmallIntegerField(default=0)
    # Since when a task for this job (its run, a poll, the collection of its products)
    # is due on the task queue and no worker has taken it up; NULL while none is due or
    # a worker has it. A task lost on the way (a worker cluster killed with the tasks it
    # had fetched, a broker restarted empty) shows here, and the requeue sweep calls
    # the backend again (jobs.services.running.jobs_requeue).
    task_due_at = models.DateTimeField(null=True, blank=True)
    # While a worker calls the backend, it holds this lease and renews it; a lease
    # that runs out means the worker died in the call, and the call is made again.
    lease_until = models.DateTimeField(null=True, blank=True)
    message = models.TextField(blank=True, default="", help_text="Why the job failed or was aborted.")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Submitted: when the attempt was accepted (the queue-wait bound counts from here).
    # In progress: the last sign of the backend's life (the call, an answer, a report);
    # the stale-job sweep measures silence from here, and nothing else moves it (a
    # notification's outcome is not a sign of the backend's life).
    last_report_at = models.DateTimeField("last report", null=True, blank=True)
    # Grows with every change an answer shows (status, events, notification outcomes):
    # a finished job's answer is built once per version and cached.
    answer_version = models.PositiveIntegerField(default=0)
    # UWS: the client's own label for the job (RUNID), kept from the request that created it.
    run_id = models.CharField("run id", max_length=100, blank=True, default="")
    # UWS: when the owner deleted the job. An archived job keeps its record and products
    # (phase ARCHIVED) but leaves the default UWS job list.
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # "my jobs, newest first" (inspect-user-state, REST and UWS lists)
            models.Index(fields=["owner", "-created_at"], name="job_owner_created"),
            # "recent jobs by status" (staff views, the stale-job sweep)
            models.Index(fields=["status", "-created_at"], name="job_status_created"),
            # "everyone's jobs, newest first": the admin's job list (100 a page), inspect-state.
            # Without it each page sorted the whole registry (1,000,000 rows).
            models.Index(fields=["-created_at"], name="job_created"),
        ]
        # Polling a job goes through the unique index on job_id.

    def __str__(self) -> str:
        return f"{self.job_id[:8]} {self.instrument}/{self.product_type} {self.status}"

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @property
    def is_public(self) -> bool:
        return not self.owner

    @property
    def duration_s(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - (self.started_at or self.created_at)).total_seconds()


class JobEvent(models.Model):
    """Something that happened to a job, kept in order."""

    class Kind(models.TextChoices):
        STATUS = "status"
        PROGRESS = "progress"
        NOTIFICATION = "notification"
        # Archived or brought back (UWS delete, a later identical request); no status change.
        ARCHIVE = "archive"

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, blank=True, default="", help_text="Job status after the event.")
    message = models.TextField(blank=True, default="")
    data = models.JSONField(default=dict, blank=True)
    # Makes a repeated report harmless: the same key for the same job is stored once.
    # NULL (not "") for events without a key, so that they never collide.
    dedup_key = models.CharField(max_length=128, null=True, blank=True)  # noqa: DJ001
    # The job's attempt this happened in (see Job.attempt).
    attempt = models.PositiveSmallIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["job", "dedup_key"], name="jobevent_unique_dedup"),
        ]
        # A job's timeline (job_monitor, the job page) reads events by job in id
        # order: the foreign-key index plus the primary key serve it.

    def __str__(self) -> str:
        return f"{self.kind} {self.status} {self.message[:40]}"


class JobProducts(models.Model):
    """What a finished job produced: the protocol's product lists, as its answers show them.

    The files those lists name (``file_list``, offered by /download_products) stay
    on disk under DISPATCHER_DATA_DIR (see jobs.products). The lists live here, in a
    table of their own: they are written in the transaction that ends the job, so no
    reader ever sees a done job without them, and a poll, which reads the job row,
    never loads them (an answer is built once per change and cached).
    """

    job = models.OneToOneField(Job, on_delete=models.CASCADE, primary_key=True, related_name="products")
    # The answer's `products` entries: text_product_list, numpy_data_product_list, file_list...
    lists = models.JSONField(default=dict)
    # Shown to the user in exit_status.comment.
    comment = models.TextField(blank=True, default="")

    class Meta:
        verbose_name = "job products"
        verbose_name_plural = "job products"

    def __str__(self) -> str:
        return f"products of {self.job_id}"


class DelayedTask(models.Model):
    """A task to queue at a later time: a poll in a few seconds, a retry after a back-off.

    No worker sleeps waiting for it: the task timer of every worker cluster
    (``jobs.scheduling.delayed_tasks_send``, run by ``manage.py qcluster``) hands
    due rows to the broker and deletes them, so none outlives its run.
    """

    func = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    due_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["due_at"], name="delayedtask_due")]

    def __str__(self) -> str:
        return f"{self.func} at {self.due_at:%H:%M:%S}"


class Upload(models.Model):
    """A file someone sent as a parameter, and who may read it back (``jobs.uploads``).

    The file is kept once under its content hash (``DISPATCHER_DATA_DIR/uploads``);
    each person who sent it has a row of their own, so that sending a file someone
    else sent too gives access to no one new.
    """

    sha256 = models.CharField("SHA-256 of the content", max_length=64)
    # The token's subject of whoever sent it; "" for a request without a token (then anyone may read it).
    owner = models.CharField(max_length=254, blank=True, default="")
    # Holders of every one of these roles may read it too (DISPATCHER_UPLOAD_READER_ROLES when sent).
    reader_roles = models.JSONField(default=list, blank=True)
    filename = models.CharField(max_length=255, blank=True, default="", help_text="As the sender named it.")
    size = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # Also the index of /download_file's lookup by hash.
            models.UniqueConstraint(fields=["sha256", "owner"], name="upload_unique_sha_owner"),
        ]

    def __str__(self) -> str:
        return f"{self.sha256[:12]} of {self.owner or 'public'}"
