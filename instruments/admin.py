from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from instruments.backends import backend_check
from instruments.exceptions import UnknownInstrument
from instruments.models import Instrument
from instruments.registry import instrument_get, kind_problem, kinds_available
from instruments.services import instruments_set_enabled


class InstrumentForm(forms.ModelForm):
    class Meta:
        model = Instrument
        fields = ("name", "kind", "enabled", "description", "settings", "roles", "product_roles")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].help_text = "Available kinds: " + ", ".join(sorted(kinds_available()))

    def clean_kind(self) -> str:
        kind = self.cleaned_data["kind"].strip()
        problem = kind_problem(kind)
        if problem == "unknown":
            raise forms.ValidationError(f"Unknown kind {kind!r}; available: {', '.join(sorted(kinds_available()))}.")
        if problem:
            raise forms.ValidationError(f"Kind {kind!r} is installed but fails to import: {problem}")
        return kind


@admin.register(Instrument)
class InstrumentAdmin(admin.ModelAdmin):
    form = InstrumentForm
    list_display = ("name", "kind", "enabled", "roles_text", "backend_url", "updated_at")
    list_filter = ("enabled", "kind")
    search_fields = ("name", "kind", "description")
    readonly_fields = ("created_at", "updated_at")
    actions = ("enable", "disable", "check_backend")

    @admin.display(description="roles")
    def roles_text(self, instrument: Instrument) -> str:
        return ", ".join(instrument.roles or [])

    @admin.display(description="backend URL")
    def backend_url(self, instrument: Instrument) -> str:
        settings = instrument.settings if isinstance(instrument.settings, dict) else {}
        return str(settings.get("url", ""))

    @admin.action(description="Enable the selected instruments")
    def enable(self, request: HttpRequest, queryset: QuerySet[Instrument]) -> None:
        self._set_enabled(request, queryset, enabled=True)

    @admin.action(description="Disable the selected instruments")
    def disable(self, request: HttpRequest, queryset: QuerySet[Instrument]) -> None:
        self._set_enabled(request, queryset, enabled=False)

    def _set_enabled(self, request: HttpRequest, queryset: QuerySet[Instrument], *, enabled: bool) -> None:
        ids = queryset.values_list("pk", flat=True)
        count = instruments_set_enabled(instrument_ids=ids, enabled=enabled)
        state = "enabled" if enabled else "disabled"
        self.message_user(request, f"{count} instrument(s) {state}.", messages.SUCCESS)

    @admin.action(description="Check the backend of the selected instruments")
    def check_backend(self, request: HttpRequest, queryset: QuerySet[Instrument]) -> None:
        for name in queryset.values_list("name", flat=True):
            level, text = _backend_state(name)
            self.message_user(request, f"{name}: {text}", level)


def _backend_state(name: str) -> tuple[int, str]:
    """(message level, text) of one instrument's backend check."""
    try:
        handle = instrument_get(name)
    except UnknownInstrument:
        return messages.WARNING, "not checked: disabled, or its kind is unavailable"
    result = backend_check(handle)
    if result.ok:
        return messages.SUCCESS, f"up ({result.text})"
    return messages.ERROR, f"DOWN: {result.text}"
