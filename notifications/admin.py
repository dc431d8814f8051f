from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from notifications.models import BotState, Delivery, MatrixRoom, NotificationSettings
from notifications.services import delivery_resend


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
    list_filter = ("outcome", "channel", "event", "role")
    search_fields = ("=job__job_id", "recipient")
    list_select_related = ("job",)
    date_hierarchy = "created_at"
    readonly_fields = ("job", "source_event_id", "event", "channel", "recipient", "bcc", "role", "outcome", "reason",
                       "error", "attempts", "duration_s", "txn_id", "once_key", "created_at", "updated_at")  # fmt: skip
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
        for delivery in queryset:
            delivery_resend(delivery_id=delivery.pk)
        self.message_user(request, f"{queryset.count()} deliveries queued to be sent again.", messages.SUCCESS)


@admin.register(BotState)
class BotStateAdmin(admin.ModelAdmin):
    list_display = ("key", "value", "updated_at")
    readonly_fields = ("key", "value", "updated_at")
