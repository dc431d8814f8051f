"""Instrument configurations, merged from where they come from.

Configurations come from four places, a later one overriding an earlier one of
the same name:

0. the built-in instruments (``instruments.builtin.BUILTIN_INSTRUMENTS``) are
   always offered;
1. every installed plugin kind offers an instrument of its own name (unless its
   adapter class sets ``auto_instrument = False``, e.g. because it needs a URL);
2. ``DISPATCHER_NB2W_BACKENDS`` (``settings.NB2W_BACKENDS``) adds nb2workflow
   instruments;
3. ``Instrument`` rows, edited in the admin (created for the built-ins by a data
   migration, so that staff see and can change them).

Items 0 to 2 are virtual: nothing is written at start-up, so several hosts never
race to write them, removing the variable removes the instrument, and a row of the
same name (e.g. a disabled one, or one adding roles) takes precedence.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings as django_settings

from instruments.builtin import BUILTIN_INSTRUMENTS
from instruments.registry.kinds import kind_load, kinds_available


@dataclass(frozen=True)
class InstrumentConfig:
    """One instrument's configuration, from a row or virtual."""

    name: str
    kind: str
    settings: dict[str, Any] = field(default_factory=dict)
    roles: tuple[str, ...] = ()
    product_roles: dict[str, list[str]] = field(default_factory=dict)
    enabled: bool = True
    description: str = ""

    def fingerprint(self) -> str:
        fields = [self.kind, self.settings, self.roles, self.product_roles, self.description]
        return json.dumps(fields, sort_keys=True, default=str)


def configs_merged() -> dict[str, InstrumentConfig]:
    """Every configured instrument by name, enabled or not, the later sources winning."""
    return {**_builtin(), **_plugins(), **_nb2w_backends(), **_rows()}


def _builtin() -> dict[str, InstrumentConfig]:
    return {
        spec["name"]: InstrumentConfig(
            name=spec["name"],
            kind=spec["kind"],
            settings=dict(spec.get("settings", {})),
            roles=tuple(spec.get("roles", ())),
            description=spec.get("description", ""),
        )
        for spec in BUILTIN_INSTRUMENTS
    }


def _plugins() -> dict[str, InstrumentConfig]:
    configs = {}
    for kind, source in kinds_available().items():
        if source.origin != "built-in":
            adapter_class = kind_load(kind)
            if adapter_class is not None and getattr(adapter_class, "auto_instrument", True):
                configs[kind] = InstrumentConfig(name=kind, kind=kind, description=f"from {source.origin}")
    return configs


def _nb2w_backends() -> dict[str, InstrumentConfig]:
    return {
        name: InstrumentConfig(name=name, kind="nb2workflow", settings={"url": url}, description=url)
        for name, url in getattr(django_settings, "NB2W_BACKENDS", {}).items()
    }


def _rows() -> dict[str, InstrumentConfig]:
    from instruments.models import Instrument

    return {
        row.name: InstrumentConfig(
            name=row.name,
            kind=row.kind,
            settings=dict(row.settings or {}),
            roles=tuple(row.roles or ()),
            product_roles=dict(row.product_roles or {}),
            enabled=row.enabled,
            description=row.description,
        )
        for row in Instrument.objects.all()
    }
