"""Reaching instruments' backends to see how they stand: the one check behind the admin and the command."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from instruments.base import AdapterError
from instruments.registry import InstrumentHandle, instruments_enabled

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BackendCheck:
    instrument: str
    kind: str
    ok: bool
    text: str
    seconds: float


def backends_check(
    *, names: Iterable[str] | None = None, progress: Callable[[int, int], None] | None = None
) -> list[BackendCheck]:
    """Reach the backend of each enabled instrument (or of ``names``) through its adapter's check()."""
    handles = instruments_enabled()
    if names is not None:
        wanted = set(names)
        handles = [handle for handle in handles if handle.name in wanted]
    results = []
    for done, handle in enumerate(handles, start=1):
        results.append(backend_check(handle))
        if progress is not None:
            progress(done, len(handles))
    return results


def backend_check(handle: InstrumentHandle) -> BackendCheck:
    started = time.monotonic()
    try:
        ok, text = True, handle.adapter.check() or "ok"
    except AdapterError as error:
        ok, text = False, error.message
    except Exception as error:  # an adapter bug is a down backend too, and must not end the sweep
        log.exception("check of instrument %s crashed", handle.name)
        ok, text = False, f"the adapter's check failed: {type(error).__name__}: {error}"
    return BackendCheck(handle.name, handle.kind, ok, text, time.monotonic() - started)
