"""System checks: Instrument rows that no installed adapter kind can serve.

Warnings, not errors: an uninstalled plugin must not stop ``migrate`` or the
server (the registry skips such instruments, logged); the operator sees why.
"""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.db import DatabaseError


def check_instrument_kinds(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from instruments.models import Instrument
    from instruments.registry import kind_problem, kinds_available

    try:
        rows = list(Instrument.objects.values_list("name", "kind"))
    except DatabaseError:
        return []  # not migrated yet (checks run before `migrate`), or no database at all
    known = ", ".join(sorted(kinds_available()))
    messages: list[checks.CheckMessage] = []
    for name, kind in rows:
        problem = kind_problem(kind)
        if problem == "unknown":
            messages.append(
                checks.Warning(
                    f"Instrument {name!r} has the unknown kind {kind!r}.",
                    hint=f"Install the plugin providing it, or change the kind to one of: {known}.",
                    obj=f"Instrument {name}",
                    id="instruments.W001",
                )
            )
        elif problem:
            messages.append(
                checks.Warning(
                    f"Instrument {name!r}: its kind {kind!r} fails to import ({problem}).",
                    hint="Fix or reinstall the package providing this kind; the instrument is skipped meanwhile.",
                    obj=f"Instrument {name}",
                    id="instruments.W002",
                )
            )
    return messages
