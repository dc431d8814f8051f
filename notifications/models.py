from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from jobs.models import Job
from notifications.vocabulary import Channel, Content, Event, Outcome, Role


class NotificationSettings(models.Model):
    """A user's saved channels; a token's claims override them for one request.

    Every option is nullable: empty means "use the site default".
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_settings"
    )
    email_address = models.EmailField(blank=True, default="", help_text="Empty: the token's email (sub).")
    email_submitted = models.BooleanField(null=True, blank=True, help_text="mssub")
    email_done = models.BooleanField(null=True, blank=True, help_text="msdone")
    email_failed = models.BooleanField(null=True, blank=True, help_text="msfail")
    email_done_only_if_slow = models.BooleanField(null=True, blank=True, help_text="mstout")
    email_slow_threshold_s = models.FloatField(null=True, blank=True, help_text="tem")
    email_submitted_interval_s = models.FloatField(null=True, blank=True, help_text="intsub")
    matrix_room_id = models.CharField(max_length=255, blank=True, default="", help_text="mxroomid")
    matrix_submitted = models.BooleanField(null=True, blank=True, help_text="mxsub")
    matrix_done = models.BooleanField(null=True, blank=True, help_text="mxdone")
    matrix_failed = models.BooleanField(null=True, blank=True, help_text="mxfail")
    matrix_done_only_if_slow = models.BooleanField(null=True, blank=True, help_text="mxstout")
    matrix_slow_threshold_s = models.FloatField(null=True, blank=True, help_text="tmx")
    matrix_submitted_interval_s = models.FloatField(null=True, blank=True, help_text="mxintsub")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "notification channels"
        verbose_name_plural = "notification channels"

    def __str__(self) -> str:
        return f"channels of {self.user}"

    def as_options(self) -> dict[str, object]:
        """The saved preferences under the token's claim names, unset ones left out."""
        values = {
            "email": self.email_address,
            "mssub": self.email_submitted,
            "msdone": self.email_done,
            "msfail": self.email_failed,
            "mstout": self.email_done_only_if_slow,
            "tem": self.email_slow_threshold_s,
            "intsub": self.email_submitted_interval_s,
            "mxroomid": self.matrix_room_id,
            "mxsub": self.matrix_submitted,
            "mxdone": self.matrix_done,
            "mxfail": self.matrix_failed,
            "mxstout": self.matrix_done_only_if_slow,
            "tmx": self.matrix_slow_threshold_s,
            "mxintsub": self.matrix_submitted_interval_s,
        }
        return {name: value for name, value in values.items() if value not in (None, "")}


class MatrixRoom(models.Model):
    """A room the bot knows of, and how it stands there."""

    class State(models.TextChoices):
        INVITED = "invited"
        JOINED = "joined"
        LEFT = "left"
        FAILED = "failed"
        ENCRYPTED = "encrypted"

    room_id = models.CharField(max_length=255, unique=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.INVITED)
    invited_by = models.CharField(max_length=255, blank=True, default="")
    invited_at = models.DateTimeField(null=True, blank=True)
    joined_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_message_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.room_id} ({self.state})"


class IncidentReport(models.Model):
    """A person's report of a problem with a job (/report_incident), told to the operators."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="incident_reports")
    reporter = models.CharField(max_length=254, help_text="The token's sub.")
    reporter_name = models.CharField(max_length=255, blank=True, default="")
    session_id = models.CharField(max_length=64, blank=True, default="")
    description = models.TextField(blank=True, default="")
    # When the person saw it, as their page said (epoch seconds), if it said.
    incident_time = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"incident of {self.reporter} on job {self.job.job_id[:8]}"


class Delivery(models.Model):
    """One message to one recipient about one job event (or one incident report), and what became of it."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="deliveries")
    # Set on the deliveries of an incident report: the message tells that report.
    incident = models.ForeignKey(
        IncidentReport, on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries"
    )
    # The job event that caused it; a re-planned event finds its deliveries here.
    source_event_id = models.BigIntegerField(null=True, blank=True)
    event = models.CharField(max_length=16, choices=Event.choices)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    recipient = models.CharField(max_length=255, help_text="Email address or Matrix room id.")
    bcc = models.JSONField(default=list, blank=True)
    # Why this recipient gets it: the job's owner, a site copy (bcc) or incident room.
    # A Role, stored without choices as it always was: choices would need a migration and relabel the admin.
    role = models.CharField(max_length=16, default=Role.OWNER)
    # A done job's preview is a delivery of its own, after the Matrix message (notifications.deliveries):
    # its upload may fail while the words arrived.
    content = models.CharField(max_length=16, choices=Content.choices, default=Content.MESSAGE)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.PENDING)
    reason = models.CharField(max_length=255, blank=True, default="", help_text="Why skipped or refused.")
    error = models.TextField(blank=True, default="")
    attempts = models.PositiveSmallIntegerField(default=0)
    # Set while a worker sends it: a second copy of the task leaves it alone.
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    duration_s = models.FloatField(null=True, blank=True, help_text="Time taken by the last attempt.")
    # Sent as the Matrix transaction id: the homeserver drops a second send with it.
    txn_id = models.CharField(max_length=64, unique=True, default=uuid.uuid4, editable=False)
    # Set on planned "done" deliveries only: the database keeps done exactly
    # once per job, channel and recipient even when two workers race.
    once_key = models.CharField(max_length=300, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = [
            # A job event planned twice (django-q2 may deliver a task twice) makes no second row.
            models.UniqueConstraint(
                fields=["source_event_id", "channel", "recipient"], name="delivery_unique_per_event"
            ),
        ]
        indexes = [
            # The policy's history: "this job's deliveries on this channel and event".
            models.Index(fields=["job", "channel", "event"], name="delivery_job_channel_event"),
            # The admin's default list: newest first, filtered by outcome.
            models.Index(fields=["outcome", "-created_at"], name="delivery_outcome_created"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.event} to {self.recipient}: {self.outcome}"


class BotState(models.Model):
    """Small values the Matrix bot keeps across restarts (its sync position)."""

    key = models.CharField(max_length=64, primary_key=True)
    value = models.TextField(blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.key
