"""An enabled instrument: its adapter, its product catalogue, and the checks of a request.

A handle asks its adapter what it offers (products, common parameters) at most
once per ``describe_ttl_s`` seconds (an instrument setting, default 600; 0 means
once for the handle's life), since a backend may change its offer; the registry
keeps a handle for as long as its configuration is unchanged.

A handle renders no wire shape: ``describe`` gives typed descriptions
(``instruments.descriptions``) that each protocol renders its own way.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings as django_settings

from dispatcher_site.roles import Guarded, RolesNeeded
from instruments.base import Adapter, ProductSpec
from instruments.descriptions import InstrumentDescription, ParameterDescription, ProductDescription
from instruments.exceptions import QueryTypeRefused, UnknownProduct
from instruments.parameters import Parameter, dependency_order, normalize_parameters
from instruments.registry.configs import InstrumentConfig
from instruments.registry.kinds import kind_load

log = logging.getLogger("instruments.registry")

DEFAULT_DESCRIBE_TTL_S = 600.0


@dataclass
class ValidatedRequest:
    """A request's instrument parameters, normalized (defaults and common ones filled)."""

    params: dict[str, Any]
    unused: list[str]


@dataclass
class _Catalog:
    products: dict[str, ProductSpec]
    parameters: dict[str, tuple[Parameter, ...]]  # per product: common + own, in parsing order
    description: InstrumentDescription
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

    def describe(self) -> InstrumentDescription:
        """What this instrument offers: its products and every parameter, typed."""
        return self._current_catalog().description

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

    def roles_for(self, product_type: str, params: Mapping[str, Any]) -> RolesNeeded:
        """Every role a user needs for this request: instrument's, product's (row and code), values'.

        Guarding the product: a refusal quotes the product's reasons for its roles.
        """
        return self.product(product_type).required_roles(params).with_roles(self._static_roles(product_type))

    def _static_roles(self, product_type: str) -> frozenset[str]:
        return self.roles | self.product_roles.get(product_type, frozenset())

    def _current_catalog(self) -> _Catalog:
        catalog = self._catalog
        if catalog is None or time.monotonic() >= catalog.expires_at:
            # Concurrent first calls may both build it; the result is the same.
            catalog = self._catalog = self._catalog_build()
        return catalog

    def _catalog_build(self) -> _Catalog:
        products = self.adapter.describe()
        common = tuple(self.adapter.common_parameters())
        declared = {name: _merged(common, spec.parameters) for name, spec in products.items()}
        ttl = float(self.settings.get("describe_ttl_s", DEFAULT_DESCRIBE_TTL_S))
        return _Catalog(
            products=products,
            parameters={name: dependency_order(listed) for name, listed in declared.items()},
            description=self._description(products, common, declared),
            expires_at=time.monotonic() + ttl if ttl > 0 else math.inf,
        )

    def _description(
        self,
        products: dict[str, ProductSpec],
        common: tuple[Parameter, ...],
        declared: dict[str, tuple[Parameter, ...]],
    ) -> InstrumentDescription:
        return InstrumentDescription(
            name=self.name,
            kind=self.kind,
            description=self.description,
            roles=self.roles,
            common_parameters=_described(common),
            products=tuple(
                ProductDescription(
                    name=name,
                    description=spec.description,
                    query_types=spec.query_types,
                    roles=self._static_roles(name) | spec.roles,
                    own_parameters=_described(spec.parameters),
                    parameters=_described(declared[name]),
                )
                for name, spec in products.items()
            ),
        )


def _described(parameters: tuple[Parameter, ...]) -> tuple[ParameterDescription, ...]:
    return tuple(p.describe() for p in parameters)


def _merged(common: tuple[Parameter, ...], own: tuple[Parameter, ...]) -> tuple[Parameter, ...]:
    # A product's own parameter wins over a common one of the same name.
    own_names = {p.name for p in own}
    return (*(p for p in common if p.name not in own_names), *own)


def handle_build(config: InstrumentConfig) -> InstrumentHandle | None:
    """A handle for ``config``; None (logged) when its kind or its adapter cannot be had."""
    adapter_class = kind_load(config.kind)
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
        roles=RolesNeeded(config.roles, guarded=Guarded.INSTRUMENT),
        settings=dict(config.settings),
        timeout_s=float(timeout),
        adapter=adapter,
        product_roles={product: frozenset(roles) for product, roles in config.product_roles.items()},
        description=config.description,
    )
