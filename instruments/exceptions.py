"""Errors of the instruments app, each a value a user can act on.

ParameterError stays defined in ``instruments.parameters`` (adapters import it
from there); it is re-exported here so that callers find every error in one place.
"""

from __future__ import annotations

from collections.abc import Iterable

from dispatcher_site.errors import ServiceError
from instruments.parameters import ParameterError


class InstrumentError(ServiceError):
    """Base of every error the instruments app raises on purpose."""

    status_code = 400
    code = "instrument_error"


class UnknownInstrument(InstrumentError):
    code = "unknown_instrument"

    def __init__(self, name: str, installed: Iterable[str]):
        self.name = name
        # Every installed instrument, restricted ones included: never shown as such. The
        # message names none, since whoever reads it may not see them all; each
        # interface lists the instruments its caller may use (the ODA protocol's
        # installed_instruments, /instr-list).
        self.installed_instruments = sorted(installed)
        super().__init__(f"Instrument {name!r} is not installed; /instr-list names the instruments you may use.")


class InstrumentNotFound(UnknownInstrument):
    """An unknown instrument named as a resource (a URL path), not as a request's field."""

    status_code = 404


class UnknownProduct(InstrumentError):
    code = "unknown_product"

    def __init__(self, instrument: str, product_type: str, products: Iterable[str]):
        self.instrument = instrument
        self.product_type = product_type
        self.products = sorted(products)
        listed = ", ".join(self.products) or "none"
        super().__init__(f"Instrument {instrument} has no product {product_type!r}; its products: {listed}.")


class QueryTypeRefused(InstrumentError):
    """A product that answers only some query types (``dummy`` needs ``Dummy``)."""

    code = "query_type_refused"

    def __init__(self, instrument: str, product_type: str, query_type: str, allowed: Iterable[str]):
        self.query_type = query_type
        listed = ", ".join(sorted(allowed))
        super().__init__(
            f"Product {product_type} of instrument {instrument} answers query_type {listed}, not {query_type!r}."
        )


__all__ = [
    "InstrumentError",
    "InstrumentNotFound",
    "ParameterError",
    "QueryTypeRefused",
    "UnknownInstrument",
    "UnknownProduct",
]
