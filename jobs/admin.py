from django.contrib import admin

from jobs.models import Job, JobEvent


class JobEventInline(admin.TabularInline):
    model = JobEvent
    extra = 0
    can_delete = False
    fields = ("created_at", "kind", "status", "message", "data")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ("short_id", "owner", "instrument", "product_type", "status", "created_at", "duration")
    list_filter = ("status", "instrument", "created_at")
    search_fields = ("=job_id", "owner", "session_id")
    date_hierarchy = "created_at"
    readonly_fields = ("job_id", "created_at", "started_at", "finished_at", "updated_at")
    inlines = [JobEventInline]

    @admin.display(description="job id", ordering="job_id")
    def short_id(self, job: Job) -> str:
        return job.job_id[:12]

    @admin.display(description="duration (s)")
    def duration(self, job: Job) -> str:
        seconds = job.duration_s
        return "" if seconds is None else f"{seconds:.1f}"


@admin.register(JobEvent)
class JobEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "job", "kind", "status", "message")
    list_filter = ("kind", "status")
    search_fields = ("=job__job_id", "message")
    list_select_related = ("job",)
    readonly_fields = ("job", "kind", "status", "message", "data", "dedup_key", "created_at")
