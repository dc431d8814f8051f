"""Writes to the Instrument table that the admin's save does not cover."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from instruments.models import Instrument
from instruments.registry import instruments_changed


def instruments_set_enabled(*, instrument_ids: Iterable[int], enabled: bool) -> int:
    """Enable or disable instruments at once; returns how many rows changed."""
    with transaction.atomic():
        # update() sends no signals and skips auto_now: stamp updated_at (other
        # processes compare it) and tell this process's registry ourselves.
        count = Instrument.objects.filter(pk__in=list(instrument_ids)).update(
            enabled=enabled, updated_at=timezone.now()
        )
    instruments_changed()
    return count
