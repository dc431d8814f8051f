"""Which instruments exist, and the one way to reach them: ``instrument_get``.

An instrument is an adapter *kind* plus a configuration. Kinds are the built-ins
below and every entry point in the group ``dispatcher.instruments`` (the entry
point's name is the kind), imported on first use; a kind that fails to import is
logged and skipped alone. Configurations come from four places, a later one
overriding an earlier one of the same name:

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

Every request goes through this module, so it is cached per process: handles are
rebuilt only when the Instrument table changes. A save or delete in this process
is seen at once (signals); other processes notice within ``INSTRUMENTS_CACHE_TTL_S``
seconds (default 5) through one cheap aggregate query. A handle keeps its
adapter and product catalogue for as long as its row is unchanged.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import import_module, metadata
from typing import Any

from django.conf import settings as django_settings
from django.db.models import Count, Max, Q

from instruments.base import Adapter, ProductSpec
from instruments.builtin import BUILTIN_INSTRUMENTS
from instruments.exceptions import QueryTypeRefused, UnknownInstrument, UnknownProduct
from instruments.parameters import Parameter, dependency_order, normalize_parameters

log = logging.getLogger("instruments.registry")

ENTRY_POINT_GROUP = "dispatcher.instruments"
BUILTIN_KINDS: dict[str, str] = {
    "empty": "instruments.builtin.empty.EmptyAdapter",
    "empty-async": "instruments.builtin.asynchronous.EmptyAsyncAdapter",
    "empty-semi-async": "instruments.builtin.semi_async.EmptySemiAsyncAdapter",
    "demo-lightcurve": "instruments.builtin.lightcurve.DemoLightcurveAdapter",
    "nb2workflow": "instruments.nb2workflow.Nb2workflowAdapter",
}
# Shown in /api/meta-data as the "source query"; other common parameters form the
# instrument query.
SOURCE_PARAMETERS = frozenset({"src_name", "RA", "DEC", "T1", "T2", "T_format"})
DEFAULT_DESCRIBE_TTL_S = 600.0


# --- kinds ----------------------------------------------------------------------


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


# --- configurations -------------------------------------------------------------


@dataclass(frozen=True)
class _Config:
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


def _configs() -> dict[str, _Config]:
    from instruments.models import Instrument

    configs: dict[str, _Config] = {}
    for spec in BUILTIN_INSTRUMENTS:
        configs[spec["name"]] = _Config(
            name=spec["name"],
            kind=spec["kind"],
            roles=tuple(spec.get("roles", ())),
            description=spec.get("description", ""),
        )
    for kind, source in _kinds.sources().items():
        if source.origin != "built-in":
            adapter_class = _kinds.load(kind)
            if adapter_class is not None and getattr(adapter_class, "auto_instrument", True):
                configs[kind] = _Config(name=kind, kind=kind, description=f"from {source.origin}")
    for name, url in getattr(django_settings, "NB2W_BACKENDS", {}).items():
        configs[name] = _Config(name=name, kind="nb2workflow", settings={"url": url}, description=url)
    for row in Instrument.objects.all():
        configs[row.name] = _Config(
            name=row.name,
            kind=row.kind,
            settings=dict(row.settings or {}),
            roles=tuple(row.roles or ()),
            product_roles=dict(row.product_roles or {}),
            enabled=row.enabled,
            description=row.description,
        )
    return configs


# --- handles --------------------------------------------------------------------


@dataclass
class ValidatedRequest:
    """A request's instrument parameters, normalized (defaults and common ones filled)."""

    params: dict[str, Any]
    unused: list[str]


@dataclass
class _Catalog:
    products: dict[str, ProductSpec]
    common: tuple[Parameter, ...]
    declared: dict[str, tuple[Parameter, ...]]  # per product: common + own, as declared
    parameters: dict[str, tuple[Parameter, ...]]  # the same, in parsing order
    expires_at: float


@dataclass(eq=False)
class InstrumentHandle:
    """An enabled instrument, ready to validate requests and to run them through its adapter."""

    name: str
    kind: str
    roles: frozenset[str]
    settings: dict[str, Any]
    timeout_s: float
    adapter: Adapter
    product_roles: dict[str, frozenset[str]] = field(default_factory=dict)
    description: str = ""
    _catalog: _Catalog | None = field(default=None, init=False, repr=False)

    def products(self) -> dict[str, ProductSpec]:
        return self._current_catalog().products

    def product(self, product_type: str) -> ProductSpec:
        products = self.products()
        if product_type not in products:
            raise UnknownProduct(self.name, product_type, products)
        return products[product_type]

    def validate(self, product_type: str, raw: Mapping[str, Any], *, query_type: str | None = None) -> ValidatedRequest:
        """Normalize the instrument parameters of a request (protocol fields already removed).

        Raises UnknownProduct, ParameterError, and QueryTypeRefused when
        ``query_type`` is given and the product does not answer it.
        """
        spec = self.product(product_type)
        if query_type is not None and query_type not in spec.query_types:
            raise QueryTypeRefused(self.name, product_type, query_type, spec.query_types)
        params, unused = normalize_parameters(self._current_catalog().parameters[product_type], raw)
        return ValidatedRequest(params=params, unused=unused)

    def roles_for(self, product_type: str, params: Mapping[str, Any]) -> frozenset[str]:
        """Every role a user needs for this request: instrument's, product's (row and code), values'."""
        from_row = self.product_roles.get(product_type, frozenset())
        return self.roles | from_row | self.product(product_type).required_roles(params)

    def parameter_names(self, product_type: str | None = None) -> list[str]:
        """Names /run_analysis accepts for ``product_type`` (all products when None), with "token"."""
        catalog = self._current_catalog()
        wanted = [product_type] if product_type is not None else list(catalog.products)
        names: dict[str, None] = {}
        for product in wanted:
            self.product(product)
            names.update(dict.fromkeys(p.name for p in catalog.declared[product]))
        return [*names, "token"]

    def metadata(self, product_type: str | None = None) -> list[list[dict[str, Any]]]:
        """The /api/meta-data answer: the source query, the instrument query, then one per product.

        Each query is a list: a header (``query_name``, and ``product_name`` for a
        product) followed by one entry per parameter.
        """
        catalog = self._current_catalog()
        wanted = [product_type] if product_type is not None else list(catalog.products)
        for product in wanted:
            self.product(product)
        source = [p for p in catalog.common if p.name in SOURCE_PARAMETERS]
        instrument = [p for p in catalog.common if p.name not in SOURCE_PARAMETERS]
        queries = [
            [{"query_name": "src_query"}, *(p.describe() for p in source)],
            [
                {
                    "query_name": f"{self.name}_parameters",
                    "instrument": self.name,
                    "prod_dict": {product: f"{product}_query" for product in catalog.products},
                },
                *(p.describe() for p in instrument),
            ],
        ]
        for product in wanted:
            header = {"query_name": f"{product}_query", "product_name": product}
            queries.append([header, *(p.describe() for p in catalog.products[product].parameters)])
        return queries

    def _current_catalog(self) -> _Catalog:
        catalog = self._catalog
        if catalog is None or time.monotonic() >= catalog.expires_at:
            # Concurrent first calls may both describe; the result is the same.
            catalog = self._catalog = self._describe()
        return catalog

    def _describe(self) -> _Catalog:
        products = self.adapter.describe()
        common = tuple(self.adapter.common_parameters())
        declared = {name: _merged(common, spec.parameters) for name, spec in products.items()}
        parameters = {name: dependency_order(listed) for name, listed in declared.items()}
        ttl = float(self.settings.get("describe_ttl_s", DEFAULT_DESCRIBE_TTL_S))
        expires_at = time.monotonic() + ttl if ttl > 0 else math.inf
        return _Catalog(
            products=products, common=common, declared=declared, parameters=parameters, expires_at=expires_at
        )


def _merged(common: tuple[Parameter, ...], own: tuple[Parameter, ...]) -> tuple[Parameter, ...]:
    # A product's own parameter wins over a common one of the same name.
    own_names = {p.name for p in own}
    return (*(p for p in common if p.name not in own_names), *own)


def _handle_build(config: _Config) -> InstrumentHandle | None:
    adapter_class = _kinds.load(config.kind)
    if adapter_class is None:
        log.warning("instrument %r skipped: its kind %r is unavailable", config.name, config.kind)
        return None
    try:
        adapter = adapter_class(name=config.name, settings=config.settings)
    except Exception as exc:  # one misconfigured instrument must not hide the others
        log.error("instrument %r skipped: its adapter could not be built: %s", config.name, exc)
        return None
    timeout = config.settings.get("timeout_s", django_settings.BACKEND_TIMEOUT_S)
    return InstrumentHandle(
        name=config.name,
        kind=config.kind,
        roles=frozenset(config.roles),
        settings=dict(config.settings),
        timeout_s=float(timeout),
        adapter=adapter,
        product_roles={product: frozenset(roles) for product, roles in config.product_roles.items()},
        description=config.description,
    )


# --- the per-process cache ----------------------------------------------------


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
    for name, config in sorted(_configs().items()):
        if not config.enabled:
            continue
        fingerprint = config.fingerprint()
        handle = None
        if previous is not None and previous.fingerprints.get(name) == fingerprint:
            handle = previous.handles.get(name)  # unchanged: keep its adapter and catalogue
        handle = handle or _handle_build(config)
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
    global _state, _kinds
    with _state_lock:
        _state = None
        _kinds = _Kinds()


# --- the public API ---------------------------------------------------------------


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
