"""What an instrument offers, as plain typed values: one description every interface renders.

A parameter describes itself (``Parameter.describe``), an instrument handle
describes its products and parameters (``InstrumentHandle.describe``); the
protocol layers turn these values into their wire shapes (the ODA protocol's
``/api/meta-data``, the REST API's instruments, the OpenAPI schema). Nothing
here knows any wire shape, and nothing here imports the rest of the app, so that
every module of it may import these.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# The parameters that say what to look at and when (the ODA protocol's "source
# query"); the other common parameters are the instrument's own settings.
SOURCE_PARAMETERS = frozenset({"src_name", "RA", "DEC", "T1", "T2", "T_format"})


@dataclass(frozen=True)
class Restrictions:
    """What values a parameter accepts. None means "no such restriction".

    The fields are declared in the order the protocol has always listed them.
    """

    is_optional: bool = False
    min_value: float | None = None
    max_value: float | None = None
    allowed_values: tuple[Any, ...] | None = None
    # The sibling parameter naming the format a time is written in (e.g. T_format).
    format_parameter: str | None = None
    # A JSON schema that a structured value must match.
    schema: Mapping[str, Any] | None = None
    # For a list: the type of its items (their own restrictions are the ones above).
    item_type: str | None = None

    def as_mapping(self) -> dict[str, Any]:
        """The restrictions that apply, by name, in declaration order; ``is_optional`` always."""
        answer: dict[str, Any] = {"is_optional": self.is_optional}
        for name in ("min_value", "max_value", "allowed_values", "format_parameter", "schema", "item_type"):
            value = getattr(self, name)
            if value is not None:
                answer[name] = list(value) if isinstance(value, tuple) else value
        return answer


@dataclass(frozen=True)
class ParameterDescription:
    name: str
    type: str  # the parameter type's name: "float", "time", "list", ...
    units: str | None
    default: Any  # the normalized default value; None when there is none
    restrictions: Restrictions
    owl_uri: str | None = None
    description: str = ""
    # Form hints (label, group, description) as the earlier dispatcher's parameters gave them.
    extra_metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ProductDescription:
    name: str
    description: str
    query_types: frozenset[str]
    # Roles every request for it needs (instrument's, row's, product's); values may add more.
    roles: frozenset[str]
    # The parameters the product itself declares.
    own_parameters: tuple[ParameterDescription, ...]
    # Every parameter it accepts, as declared: the instrument's common ones (but
    # those it redefines), then its own.
    parameters: tuple[ParameterDescription, ...]


@dataclass(frozen=True)
class InstrumentDescription:
    name: str
    kind: str
    description: str
    roles: frozenset[str]
    # Parameters every product accepts, as the adapter declares them.
    common_parameters: tuple[ParameterDescription, ...]
    products: tuple[ProductDescription, ...]

    @property
    def source_parameters(self) -> tuple[ParameterDescription, ...]:
        """The common parameters saying what to look at and when (see SOURCE_PARAMETERS)."""
        return tuple(p for p in self.common_parameters if p.name in SOURCE_PARAMETERS)

    @property
    def instrument_parameters(self) -> tuple[ParameterDescription, ...]:
        """The other common parameters: the instrument's own settings."""
        return tuple(p for p in self.common_parameters if p.name not in SOURCE_PARAMETERS)

    def product(self, name: str) -> ProductDescription | None:
        return next((product for product in self.products if product.name == name), None)
