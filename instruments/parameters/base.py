"""The parameter base class, its error, and normalizing a whole request."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from dispatcher_site.errors import ServiceError
from dispatcher_site.inputs import RepeatedValues
from instruments.descriptions import ParameterDescription, Restrictions

NONE_MARKER = "\x00"  # how oda-api sends None
ODA = "http://odahub.io/ontology#"

_TRUE = frozenset({"true", "yes", "on", "1", "t", "y"})
_FALSE = frozenset({"false", "no", "off", "0", "f", "n"})


class ParameterError(ServiceError, ValueError):
    """A value a parameter refuses: 'Parameter p wrong value 900: must be at most 800'."""

    status_code = 400
    code = "parameter_invalid"

    def __init__(self, name: str, value: Any, reason: str):
        super().__init__(f"Parameter {name} wrong value {value}: {reason}")
        self.name = name
        self.value = value
        self.reason = reason


class Parameter:
    """Base of every parameter type. Subclasses implement ``convert``."""

    type_name = "string"
    default_owl_uri: str | None = None
    # Sibling parameters whose normalized values ``convert_in_context`` reads.
    needs: tuple[str, ...] = ()
    # Whether a field sent several times (dispatcher_site.inputs.RepeatedValues) is one value of this.
    takes_repeated = False

    def __init__(
        self,
        name: str,
        *,
        default: Any = None,
        units: str | None = None,
        optional: bool = False,
        owl_uri: str | None = None,
        description: str = "",
        extra_metadata: Mapping[str, Any] | None = None,
    ):
        self.name = name
        self.default = default
        self.units = units
        self.optional = optional
        self.owl_uri = owl_uri or self.default_owl_uri
        self.description = description
        # What a form shows beside the value (label, group, description), as the
        # earlier dispatcher's parameters carried it.
        self.extra_metadata = dict(extra_metadata or {})

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    def parse(self, raw: Any, context: Mapping[str, Any] | None = None) -> Any:
        """The normalized value of ``raw``; None (or the marker) means the default."""
        if raw is None or raw == NONE_MARKER or raw == "":
            if self.default is None and not self.optional:
                raise ParameterError(self.name, raw, "a value is required")
            return self.default
        if isinstance(raw, RepeatedValues) and not self.takes_repeated:
            raise self.error(list(raw), f"was sent {len(raw)} times, but takes one value (only lists take several)")
        return self.convert_in_context(raw, context or {})

    def convert(self, raw: Any) -> Any:
        raise NotImplementedError

    def convert_in_context(self, raw: Any, context: Mapping[str, Any]) -> Any:
        """``convert`` for parameters that read a sibling (see ``needs``)."""
        return self.convert(raw)

    def implied_siblings(self) -> dict[str, Any]:
        """Sibling values that hold once this one is normalized.

        A time read as MJD is normalized to ISO-T, so its format parameter becomes
        "isot": the same instant asked in MJD or ISO then gives the same job.
        """
        return {}

    def restrictions(self) -> Restrictions:
        """What values this accepts; subclasses add theirs with ``dataclasses.replace``."""
        return Restrictions(is_optional=self.optional)

    def describe(self) -> ParameterDescription:
        """What this parameter is, for /api/meta-data, the REST API and the OpenAPI schema."""
        return ParameterDescription(
            name=self.name,
            type=self.type_name,
            units=self.units,
            default=self.default,
            restrictions=self.restrictions(),
            owl_uri=self.owl_uri,
            description=self.description,
            extra_metadata=dict(self.extra_metadata),
        )

    def error(self, value: Any, reason: str) -> ParameterError:
        return ParameterError(self.name, value, reason)

    def _normalize_default(self) -> None:
        # Defaults go through the same conversion as input, so that asking for the
        # default explicitly and leaving it out give the same job.
        if self.default is not None:
            self.default = self.convert_in_context(self.default, {})


def _finite_float(parameter: Parameter, raw: Any) -> float:
    if isinstance(raw, bool):
        raise parameter.error(raw, "must be a number")
    try:
        value = float(raw.strip() if isinstance(raw, str) else raw)
    except (TypeError, ValueError):
        raise parameter.error(raw, "must be a number") from None
    if not math.isfinite(value):  # NaN and Infinity are not JSON, and mean nothing here
        raise parameter.error(raw, "must be a finite number")
    return value


def _number_text(number: float) -> str:
    """800.0 -> '800', 0.5 -> '0.5': bounds read naturally in messages."""
    if isinstance(number, float) and number.is_integer():
        return str(int(number))
    return str(number)


def dependency_order(parameters: Iterable[Parameter]) -> tuple[Parameter, ...]:
    """Parameters that read siblings come after the others (one level is all we need)."""
    listed = tuple(parameters)
    return tuple(p for p in listed if not p.needs) + tuple(p for p in listed if p.needs)


def normalize_parameters(parameters: Iterable[Parameter], raw: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Normalized values of every parameter (defaults filled), and the names in ``raw`` none claims.

    Raises ParameterError for the first value refused.
    """
    ordered = dependency_order(parameters)
    values: dict[str, Any] = {}
    for parameter in ordered:
        values[parameter.name] = parameter.parse(raw.get(parameter.name), values)
    for parameter in ordered:
        for sibling, value in parameter.implied_siblings().items():
            if sibling in values:
                values[sibling] = value
    unused = sorted(set(raw) - values.keys())
    return values, unused
