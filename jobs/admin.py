"""Staff's view of the job registry: list, search, a job's whole story, and the operator's actions.

Actions call services (job_abort, jobs_remove); the page only shows. The
notifications app adds a job's deliveries and its resend action from its own
admin module: jobs never imports notifications.
"""

from __future__ import annotations

import base64
import json

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from jobs.adminlist import CappedCountPaginator, InstrumentFilter, job_search
from jobs.errors import IllegalTransition
from jobs.models import Job, JobEvent
from jobs.previews import preview_load, preview_order, preview_possible
from jobs.products import products_load
from jobs.services import job_abort, jobs_remove
from jobs.signing import job_page_path


class JobEventInline(admin.TabularInline):
    model = JobEvent
    extra = 0
    can_delete = False
    fields = ("created_at", "kind", "status", "message", "data")
    readonly_fields = fields
    verbose_name_plural = "event timeline"

    def has_add_permission(self, request, obj=None) -> bool:
        return False


_WHEN_FIELDS = (
    "created_at", "started_at", "finished_at", "last_report_at",
    "attempt", "backend_calls", "task_due_at", "lease_until",
)  # fmt: skip


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    # Narrow columns (jobs/static/jobs/admin.css): the list fits 1400 px beside both sidebars.
    list_display = ("short_id", "owner_short", "instrument_short", "product", "status", "created", "duration")
    # Every part of the list reads a bounded number of rows at any registry size (jobs.adminlist):
    # no date hierarchy (it read every row's day), the configured instruments, a capped count.
    list_filter = ("status", InstrumentFilter, ("created_at", admin.DateFieldListFilter))
    # A prefix of the id, as people paste the 8 characters of a mail's subject, or an owner.
    search_fields = ("job_id", "owner")
    search_help_text = "The beginning of a job id or of an owner's address, or a whole address."
    paginator = CappedCountPaginator
    show_full_result_count = False
    ordering = ("-created_at",)  # the index job_created
    fieldsets = (
        (
            None,
            {"fields": ("job_id", "page", "owner", "instrument", "product_type", "query_type", "status", "said")},
        ),
        ("When", {"fields": _WHEN_FIELDS}),
        ("Parameters", {"fields": ("parameters",)}),
        ("Products", {"fields": ("stored_products", "preview")}),
    )
    readonly_fields = (
        "job_id", "page", "owner", "instrument", "product_type", "query_type", "status", "said", "created_at",
        "started_at", "finished_at", "last_report_at", "attempt", "backend_calls", "task_due_at", "lease_until",
        "parameters", "stored_products", "preview",
    )  # fmt: skip
    inlines = [JobEventInline]
    actions = ("abort", "purge")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # jobs come from requests, never from a form

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        return job_search(queryset, search_term), False

    def has_change_permission(self, request: HttpRequest, obj: Job | None = None) -> bool:
        # A job's page only shows (no Save buttons, a POST refused); the list keeps its actions,
        # which go through the services.
        return obj is None and super().has_change_permission(request)

    class Media:
        css = {"all": ("jobs/admin.css",)}

    @admin.display(description="job id", ordering="job_id")
    def short_id(self, job: Job) -> str:
        return job.job_id[:8]  # as a mail's subject shows it

    @admin.display(description="owner", ordering="owner")
    def owner_short(self, job: Job) -> str:
        return format_html('<span class="cut" title="{}">{}</span>', job.owner, job.owner)

    @admin.display(description="instrument", ordering="instrument")
    def instrument_short(self, job: Job) -> str:
        return format_html('<span class="cut" title="{}">{}</span>', job.instrument, job.instrument)

    @admin.display(description="product", ordering="product_type")
    def product(self, job: Job) -> str:
        return job.product_type

    @admin.display(description="created at", ordering="created_at")
    def created(self, job: Job) -> str:
        return job.created_at.strftime("%Y-%m-%d %H:%M")

    @admin.display(description="took (s)")  # as the deliveries say it
    def duration(self, job: Job) -> str:
        seconds = job.duration_s
        return "" if seconds is None else f"{seconds:.1f}"

    # The field's help text ("Why the job failed or was aborted.") would show under every job: the
    # message alone, with a label that fits both a done and a failed job.
    @admin.display(description="message")
    def said(self, job: Job) -> str:
        return job.message or "-"

    @admin.display(description="job page")
    def page(self, job: Job) -> str:
        return format_html('<a href="{}">{}</a>', job_page_path(job.job_id), job_page_path(job.job_id))

    @admin.display(description="normalized parameters")
    def parameters(self, job: Job) -> str:
        return format_html("<pre>{}</pre>", json.dumps(job.params, indent=2, sort_keys=True, default=str))

    @admin.display(description="stored products")
    def stored_products(self, job: Job) -> str:
        listing = products_load(job)
        if not listing["lists"]:
            return "none stored"
        files = listing["lists"].get("file_list", [])
        lists = sorted(name for name in listing["lists"] if name.endswith("_list") and name != "file_list")
        return format_html(
            "<p>files: {}</p><p>lists: {}</p><p>{}</p>",
            ", ".join(files) or "none",
            ", ".join(lists) or "none",
            listing["comment"],
        )

    @admin.display(description="preview")
    def preview(self, job: Job) -> str:
        # The picture the done mail and Matrix message showed (jobs.previews); a worker draws it, never this request.
        kept = preview_load(job)
        if kept is not None:
            return format_html(
                '<img class="job-preview" src="data:image/png;base64,{}" width="{}" height="{}" alt="preview">',
                base64.b64encode(kept.png).decode(), kept.width, kept.height,
            )  # fmt: skip
        if not preview_possible(job):
            return "none: no product to draw"
        if preview_order(job):
            return "being drawn by a worker: reload the page in a moment"
        return "not drawn yet: the task queue is unavailable"

    @admin.action(description="Abort the selected jobs (those still running)")
    def abort(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        aborted = 0
        for job_id in queryset.values_list("job_id", flat=True):
            try:
                job_abort(job_id=job_id, message=f"Aborted by staff ({request.user}).")
                aborted += 1
            except IllegalTransition:
                continue
        skipped = queryset.count() - aborted
        self.message_user(request, f"{aborted} job(s) aborted; {skipped} had already ended.", messages.SUCCESS)

    @admin.action(description="Purge the selected jobs (finished ones: rows and product files)")
    def purge(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        report = jobs_remove(job_ids=list(queryset.values_list("job_id", flat=True)))
        self.message_user(request, f"Purge: {report.summary()}; running jobs were kept.", messages.SUCCESS)


@admin.register(JobEvent)
class JobEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "job", "kind", "status", "message")
    list_filter = ("kind", "status")
    search_fields = ("=job__job_id", "message")
    list_select_related = ("job",)
    readonly_fields = ("job", "kind", "status", "message", "data", "dedup_key", "created_at")

    # Events are the job's history, written by the services only: shown, never added or edited here.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: JobEvent | None = None) -> bool:
        return False
