"""Staff's view of notifications: channels, rooms, deliveries, bot state; and the job admin's share of them.

The job admin belongs to ``jobs``, which never imports this app; so this module
adds a job's deliveries and the resend action to it from here.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from jobs.admin import JobAdmin
from jobs.models import Job
from notifications.deliveries import deliveries_resend
from notifications.models import BotState, Delivery, MatrixRoom, NotificationSettings


@admin.register(NotificationSettings)
class NotificationSettingsAdmin(admin.ModelAdmin):
    list_display = ("user", "email_address", "matrix_room_id", "updated_at")
    search_fields = ("user__username", "email_address", "matrix_room_id")
    raw_id_fields = ("user",)
    fieldsets = (
        (None, {"fields": ("user",)}),
        (
            "Email (empty: the site default)",
            {
                "fields": (
                    "email_address",
                    ("email_submitted", "email_done", "email_failed"),
                    ("email_done_only_if_slow", "email_slow_threshold_s"),
                    "email_submitted_interval_s",
                )
            },
        ),
        (
            "Matrix (empty: the site default)",
            {
                "fields": (
                    "matrix_room_id",
                    ("matrix_submitted", "matrix_done", "matrix_failed"),
                    ("matrix_done_only_if_slow", "matrix_slow_threshold_s"),
                    "matrix_submitted_interval_s",
                )
            },
        ),
    )


@admin.register(MatrixRoom)
class MatrixRoomAdmin(admin.ModelAdmin):
    list_display = ("room_id", "state", "invited_by", "invited_at", "last_message_at", "short_error")
    list_filter = ("state",)
    search_fields = ("room_id", "invited_by")
    readonly_fields = ("invited_at", "joined_at", "last_error_at", "last_message_at", "updated_at")

    @admin.display(description="last error")
    def short_error(self, room: MatrixRoom) -> str:
        return room.last_error[:80]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "short_job", "event", "channel", "recipient", "role", "outcome", "attempts",
                    "duration", "short_error")  # fmt: skip
    list_filter = ("outcome", "channel", "event", "role", "content")
    search_fields = ("=job__job_id", "recipient")
    list_select_related = ("job",)
    date_hierarchy = "created_at"
    readonly_fields = ("job", "source_event_id", "event", "channel", "recipient", "bcc", "role", "content", "outcome",
                       "reason", "error", "attempts", "duration_s", "txn_id", "once_key", "created_at",
                       "updated_at")  # fmt: skip
    actions = ["resend"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="job", ordering="job__job_id")
    def short_job(self, delivery: Delivery) -> str:
        return delivery.job.job_id[:12]

    @admin.display(description="took (s)")
    def duration(self, delivery: Delivery) -> str:
        return "" if delivery.duration_s is None else f"{delivery.duration_s:.2f}"

    @admin.display(description="error")
    def short_error(self, delivery: Delivery) -> str:
        return delivery.error[:80]

    @admin.action(description="Resend the selected deliveries")
    def resend(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        resent = deliveries_resend(delivery_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{len(resent)} deliveries queued to be sent again.", messages.SUCCESS)


@admin.register(BotState)
class BotStateAdmin(admin.ModelAdmin):
    list_display = ("key", "value", "updated_at")
    readonly_fields = ("key", "value", "updated_at")

    # The bot's own bookkeeping (its sync position): shown, never added or edited by hand.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: BotState | None = None) -> bool:
        return False


class DeliveryInline(admin.TabularInline):
    """A job's deliveries on its admin page, read-only, oldest first."""

    model = Delivery
    extra = 0
    can_delete = False
    ordering = ("id",)
    fields = ("when", "event_name", "channel_name", "recipient", "role", "outcome_name", "attempts", "error_or_reason")
    readonly_fields = fields
    verbose_name_plural = "notifications (deliveries)"

    def has_add_permission(self, request: HttpRequest, obj: Job | None = None) -> bool:
        return False

    @admin.display(description="when")
    def when(self, delivery: Delivery) -> str:
        return delivery.created_at.strftime("%Y-%m-%d %H:%M:%S")

    # The stored words (as the job's history and the protocol say them), not the choices' labels.
    @admin.display(description="event")
    def event_name(self, delivery: Delivery) -> str:
        return delivery.event

    @admin.display(description="channel")
    def channel_name(self, delivery: Delivery) -> str:
        # A done job's preview is a delivery of its own (an m.image after the message): said beside its channel.
        return delivery.channel if delivery.content == "message" else f"{delivery.channel} ({delivery.content})"

    @admin.display(description="outcome")
    def outcome_name(self, delivery: Delivery) -> str:
        return delivery.outcome

    @admin.display(description="error")
    def error_or_reason(self, delivery: Delivery) -> str:
        return (delivery.error or delivery.reason)[:120]


@admin.action(description="Resend the notifications that did not arrive")
def resend_notifications(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Job]) -> None:
    resent = deliveries_resend(job_ids=list(queryset.values_list("job_id", flat=True)))
    modeladmin.message_user(request, f"{len(resent)} delivery(ies) queued to be sent again.", messages.SUCCESS)


JobAdmin.inlines = [*JobAdmin.inlines, DeliveryInline]
JobAdmin.actions = [*JobAdmin.actions, resend_notifications]
