"""The per-process cache of handles, and the one way to reach an instrument: ``instrument_get``.

Every request goes through here, so handles are cached per process and rebuilt
only when the Instrument table changes. A save or delete in this process is seen
at once (signals); other processes notice within ``INSTRUMENTS_CACHE_TTL_S``
seconds (default 5) through one cheap aggregate query. A handle keeps its
adapter and product catalogue for as long as its configuration is unchanged.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings as django_settings
from django.db.models import Count, Max, Q

from instruments.exceptions import UnknownInstrument
from instruments.registry.configs import configs_merged
from instruments.registry.handles import InstrumentHandle, handle_build
from instruments.registry.kinds import kinds_reset


@dataclass
class _State:
    version: tuple[Any, ...]
    handles: dict[str, InstrumentHandle]
    fingerprints: dict[str, str]
    checked_at: float


_state: _State | None = None
_state_lock = threading.Lock()


def _table_version() -> tuple[Any, ...]:
    from instruments.models import Instrument

    # Every write through the ORM's save() or our services stamps updated_at.
    summary = Instrument.objects.aggregate(
        count=Count("id"), enabled=Count("id", filter=Q(enabled=True)), latest=Max("updated_at")
    )
    return (summary["count"], summary["enabled"], summary["latest"])


def _state_build(version: tuple[Any, ...], previous: _State | None) -> _State:
    handles: dict[str, InstrumentHandle] = {}
    fingerprints: dict[str, str] = {}
    for name, config in sorted(configs_merged().items()):
        if not config.enabled:
            continue
        fingerprint = config.fingerprint()
        handle = None
        if previous is not None and previous.fingerprints.get(name) == fingerprint:
            handle = previous.handles.get(name)  # unchanged: keep its adapter and catalogue
        handle = handle or handle_build(config)
        if handle is not None:
            handles[name] = handle
            fingerprints[name] = fingerprint
    return _State(version=version, handles=handles, fingerprints=fingerprints, checked_at=time.monotonic())


def _current_state() -> _State:
    global _state
    ttl = float(getattr(django_settings, "INSTRUMENTS_CACHE_TTL_S", 5.0))
    state = _state
    if state is not None and time.monotonic() - state.checked_at < ttl:
        return state
    with _state_lock:
        state = _state
        if state is not None and time.monotonic() - state.checked_at < ttl:
            return state
        version = _table_version()
        if state is not None and state.version == version:
            state.checked_at = time.monotonic()
            return state
        _state = _state_build(version, previous=state)
        return _state


def instruments_changed() -> None:
    """An Instrument row changed in this process: check the table on the next call."""
    state = _state
    if state is not None:
        state.checked_at = -math.inf
        state.version = ("changed",)


def registry_reset() -> None:
    """Forget every cached handle and kind (tests; after installing a plugin at run time)."""
    global _state
    with _state_lock:
        _state = None
        kinds_reset()


def instrument_get(name: str) -> InstrumentHandle:
    """The enabled instrument ``name``; UnknownInstrument (listing the installed ones) otherwise."""
    handles = _current_state().handles
    handle = handles.get(name)
    if handle is None:
        raise UnknownInstrument(name, handles)
    return handle


def instruments_enabled() -> list[InstrumentHandle]:
    """Every enabled, usable instrument, by name."""
    return list(_current_state().handles.values())
