"""Adapter kinds: the built-ins below and every installed plugin's.

Kinds are the built-ins of ``BUILTIN_KINDS`` and every entry point in the group
``dispatcher.instruments`` (the entry point's name is the kind), imported on
first use; a kind that fails to import is logged and skipped alone.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from importlib import import_module, metadata

from instruments.base import Adapter

# One logger for the whole registry: operators (and tests) follow it by this name.
log = logging.getLogger("instruments.registry")

ENTRY_POINT_GROUP = "dispatcher.instruments"
BUILTIN_KINDS: dict[str, str] = {
    "empty": "instruments.builtin.empty.EmptyAdapter",
    "empty-development": "instruments.builtin.empty.EmptyDevelopmentAdapter",
    "empty-with-conf": "instruments.builtin.empty.EmptyWithConfAdapter",
    "empty-with-posix-path": "instruments.builtin.empty.EmptyWithPosixPathAdapter",
    "empty-async": "instruments.builtin.asynchronous.EmptyAsyncAdapter",
    "empty-async-return-progress": "instruments.builtin.asynchronous.EmptyAsyncReturnProgressAdapter",
    "empty-semi-async": "instruments.builtin.semi_async.EmptySemiAsyncAdapter",
    "demo-lightcurve": "instruments.builtin.lightcurve.DemoLightcurveAdapter",
    "nb2workflow": "instruments.nb2workflow.Nb2workflowAdapter",
}


@dataclass(frozen=True)
class KindSource:
    kind: str
    target: str  # "package.module.Class" or an entry point's "package.module:Class"
    origin: str  # "built-in" or "plugin <distribution>"


class _Kinds:
    """Kind name -> adapter class, each imported once, failures remembered and logged once."""

    def __init__(self) -> None:
        self._sources: dict[str, KindSource] | None = None
        self._entry_points: dict[str, metadata.EntryPoint] = {}
        self._classes: dict[str, type[Adapter]] = {}
        self._failures: dict[str, str] = {}
        self._lock = threading.RLock()

    def sources(self) -> dict[str, KindSource]:
        if self._sources is None:
            with self._lock:
                if self._sources is None:
                    self._sources = self._discover()
        return self._sources

    def _discover(self) -> dict[str, KindSource]:
        found = {kind: KindSource(kind, target, "built-in") for kind, target in BUILTIN_KINDS.items()}
        for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
            distribution = entry_point.dist.name if entry_point.dist else "?"
            if entry_point.name in found:
                if entry_point.value.replace(":", ".") == BUILTIN_KINDS.get(entry_point.name):
                    continue  # the installed dispatcher's own declaration of a built-in (pyproject.toml)
                log.warning(
                    "plugin %s: kind %r is already provided by %s; ignored",
                    distribution,
                    entry_point.name,
                    found[entry_point.name].origin,
                )
                continue
            found[entry_point.name] = KindSource(entry_point.name, entry_point.value, f"plugin {distribution}")
            self._entry_points[entry_point.name] = entry_point
        return found

    def load(self, kind: str) -> type[Adapter] | None:
        """The adapter class of ``kind``, or None (unknown, or failed to import: logged once)."""
        if kind in self._classes:
            return self._classes[kind]
        if kind in self._failures or kind not in self.sources():
            return None
        with self._lock:
            try:
                loaded = self._import(kind)
            except Exception as exc:  # a plugin's failure, whatever it is, stays its own
                self._failures[kind] = f"{type(exc).__name__}: {exc}"
                log.error("instrument kind %r (%s) is unavailable: %s", kind, self.sources()[kind].origin, exc)
                return None
            self._classes[kind] = loaded
            return loaded

    def _import(self, kind: str) -> type[Adapter]:
        if kind in self._entry_points:
            loaded = self._entry_points[kind].load()
        else:
            module_name, _, class_name = self.sources()[kind].target.rpartition(".")
            loaded = getattr(import_module(module_name), class_name)
        if not (isinstance(loaded, type) and issubclass(loaded, Adapter)):
            raise TypeError(f"{self.sources()[kind].target} is not an Adapter subclass")
        return loaded

    def problem(self, kind: str) -> str | None:
        """Why ``kind`` cannot be used, or None when it can."""
        if kind not in self.sources():
            return "unknown"
        if self.load(kind) is None:
            return self._failures.get(kind, "unavailable")
        return None


_kinds = _Kinds()


def kinds_available() -> dict[str, KindSource]:
    """Every kind that is declared (built-in or installed), importable or not."""
    return dict(_kinds.sources())


def kind_problem(kind: str) -> str | None:
    """None when instruments of ``kind`` can run; else why not ("unknown", an import error)."""
    return _kinds.problem(kind)


def kind_load(kind: str) -> type[Adapter] | None:
    """The adapter class of ``kind``; None when it is unknown or fails to import (logged once)."""
    return _kinds.load(kind)


def kinds_reset() -> None:
    """Discover and import every kind again on next use."""
    global _kinds
    _kinds = _Kinds()
