"""Typed instrument parameters.

A parameter turns raw request text (or an already typed value) into a normalized
value, refusing bad input with an error that names it, and describes itself for
``/api/meta-data``. Normalized values are what the job hash is computed from, so
they must be JSON-serializable and canonical (same meaning -> same value).

Some parameters read a sibling: a time is written in the format named by
``T_format``, an energy may be given in the units named by ``E_units``. Such a
parameter lists the siblings in ``needs``; ``normalize_parameters`` parses the
siblings first and hands their normalized values over as ``context``. Once
normalized, the sibling is rewritten to match (``implied_siblings``): a time given
in MJD becomes ISO-T, and its ``T_format`` becomes "isot".
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

NONE_MARKER = "\x00"  # how oda-api sends None
ODA = "http://odahub.io/ontology#"

_TRUE = frozenset({"true", "yes", "on", "1", "t", "y"})
_FALSE = frozenset({"false", "no", "off", "0", "f", "n"})


class ParameterError(ValueError):
    """A value a parameter refuses: 'Parameter p wrong value 900: must be at most 800'."""

    status_code = 400

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

    def __init__(
        self,
        name: str,
        *,
        default: Any = None,
        units: str | None = None,
        optional: bool = False,
        owl_uri: str | None = None,
        description: str = "",
    ):
        self.name = name
        self.default = default
        self.units = units
        self.optional = optional
        self.owl_uri = owl_uri or self.default_owl_uri
        self.description = description

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    def parse(self, raw: Any, context: Mapping[str, Any] | None = None) -> Any:
        """The normalized value of ``raw``; None (or the marker) means the default."""
        if raw is None or raw == NONE_MARKER or raw == "":
            if self.default is None and not self.optional:
                raise ParameterError(self.name, raw, "a value is required")
            return self.default
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

    def restrictions(self) -> dict[str, Any]:
        return {"is_optional": self.optional}

    def describe(self) -> dict[str, Any]:
        """This parameter's entry in /api/meta-data."""
        entry: dict[str, Any] = {
            "name": self.name,
            "units": self.units,
            "value": self.default,
            "type": self.type_name,
            "restrictions": self.restrictions(),
        }
        if self.owl_uri:
            entry["owl_uri"] = self.owl_uri
        return entry

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


class _Bounded(Parameter):
    """A number with optional inclusive bounds."""

    def __init__(self, name: str, *, min_value: float | None = None, max_value: float | None = None, **options: Any):
        super().__init__(name, **options)
        self.min_value = min_value
        self.max_value = max_value

    def check_bounds(self, raw: Any, value: float) -> None:
        if self.min_value is not None and value < self.min_value:
            raise self.error(raw, f"must be at least {_number_text(self.min_value)}")
        if self.max_value is not None and value > self.max_value:
            raise self.error(raw, f"must be at most {_number_text(self.max_value)}")

    def restrictions(self) -> dict[str, Any]:
        answer = super().restrictions()
        if self.min_value is not None:
            answer["min_value"] = self.min_value
        if self.max_value is not None:
            answer["max_value"] = self.max_value
        return answer

    def to_float(self, raw: Any) -> float:
        return _finite_float(self, raw)


class Float(_Bounded):
    type_name = "float"
    default_owl_uri = f"{ODA}Float"

    def __init__(self, name: str, **options: Any):
        super().__init__(name, **options)
        self._normalize_default()

    def convert(self, raw: Any) -> float:
        value = self.to_float(raw)
        self.check_bounds(raw, value)
        return value


class Integer(_Bounded):
    type_name = "integer"
    default_owl_uri = f"{ODA}Integer"

    def __init__(self, name: str, **options: Any):
        super().__init__(name, **options)
        self._normalize_default()

    def convert(self, raw: Any) -> int:
        if isinstance(raw, int) and not isinstance(raw, bool):
            value = raw
        else:
            number = self.to_float(raw)
            # "10" and "10.0" both mean ten; "10.5" is not an integer.
            if not number.is_integer():
                raise self.error(raw, "must be an integer")
            value = int(number)
        self.check_bounds(raw, value)
        return value


class String(Parameter):
    type_name = "string"
    default_owl_uri = f"{ODA}String"

    def __init__(
        self,
        name: str,
        *,
        allowed_values: Sequence[str] | None = None,
        max_length: int | None = None,
        **options: Any,
    ):
        super().__init__(name, **options)
        self.allowed_values = list(allowed_values) if allowed_values is not None else None
        self.max_length = max_length
        self._normalize_default()

    def convert(self, raw: Any) -> str:
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            raise self.error(raw, "must be a text")
        # Surrounding blanks never carry meaning in a source name or a label.
        value = str(raw).strip()
        if "\x00" in value:
            # No database stores it in text (PostgreSQL refuses it), and no name needs it.
            raise self.error(repr(raw), "must not contain NUL characters")
        if self.max_length is not None and len(value) > self.max_length:
            raise self.error(raw, f"must be at most {self.max_length} characters long")
        if self.allowed_values is not None and value not in self.allowed_values:
            raise self.error(raw, f"must be one of {', '.join(self.allowed_values)}")
        return value

    def restrictions(self) -> dict[str, Any]:
        answer = super().restrictions()
        if self.allowed_values is not None:
            answer["allowed_values"] = list(self.allowed_values)
        return answer


class Enum(String):
    """One of a fixed list of words."""

    type_name = "enum"

    def __init__(self, name: str, *, allowed_values: Sequence[str], **options: Any):
        if not allowed_values:
            raise ValueError(f"Enum {name} needs allowed_values")
        super().__init__(name, allowed_values=allowed_values, **options)


class Boolean(Parameter):
    type_name = "boolean"
    default_owl_uri = f"{ODA}Boolean"

    def __init__(self, name: str, **options: Any):
        super().__init__(name, **options)
        self._normalize_default()

    def convert(self, raw: Any) -> bool:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, int) and raw in (0, 1):
            return bool(raw)
        word = str(raw).strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise self.error(raw, "must be true or false")

    def restrictions(self) -> dict[str, Any]:
        return {**super().restrictions(), "allowed_values": [True, False]}


# --- time ---------------------------------------------------------------------

TIME_FORMATS = (
    "isot",
    "iso",
    "mjd",
    "jd",
    "unix",
    "unix_tai",
    "gps",
    "cxcsec",
    "decimalyear",
    "jyear",
    "byear",
    "fits",
    "yday",
)
_NUMERIC_TIME_FORMATS = frozenset({"mjd", "jd", "unix", "unix_tai", "gps", "cxcsec", "decimalyear", "jyear", "byear"})
# Plain ISO dates and times up to milliseconds: parsed without astropy, which is
# slow to import and ~100x slower per value, because most requests look like this.
_PLAIN_ISO = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?)?Z?")


class Time(Parameter):
    """An instant, normalized to ISO-T UTC with milliseconds: '2017-03-06T13:26:48.000'.

    The input is read in the format given by the sibling ``format_parameter``
    (default ``T_format``), else ``default_format``. ISO and ISO-T are accepted
    for each other, since they only differ by the 'T'.
    """

    type_name = "time"
    default_owl_uri = f"{ODA}TimeInstantISOT"

    def __init__(
        self,
        name: str,
        *,
        format_parameter: str | None = "T_format",
        default_format: str = "isot",
        **options: Any,
    ):
        super().__init__(name, **options)
        if default_format not in TIME_FORMATS:
            raise ValueError(f"Time {name}: unknown default_format {default_format!r}")
        self.format_parameter = format_parameter
        self.default_format = default_format
        self.needs = (format_parameter,) if format_parameter else ()
        self._normalize_default()

    def convert(self, raw: Any) -> str:
        return self.convert_in_context(raw, {})

    def convert_in_context(self, raw: Any, context: Mapping[str, Any]) -> str:
        time_format = context.get(self.format_parameter or "") or self.default_format
        if time_format not in TIME_FORMATS:
            raise self.error(raw, f"unknown time format {time_format}; use one of {', '.join(TIME_FORMATS)}")
        if time_format in ("isot", "iso", "fits") and isinstance(raw, str):
            fast = _plain_iso(raw.strip())
            if fast is not None:
                return fast
        return self._with_astropy(raw, time_format)

    def _with_astropy(self, raw: Any, time_format: str) -> str:
        from astropy.time import Time as AstropyTime

        value: Any = raw
        if time_format in _NUMERIC_TIME_FORMATS:
            value = _finite_float(self, raw)
        elif time_format == "iso" and isinstance(raw, str):
            time_format = "isot" if "T" in raw else "iso"
        try:
            instant = AstropyTime(value, format=time_format, scale=_scale_of(time_format))
            instant.precision = 3
            return str(instant.utc.isot)
        except (ValueError, TypeError, OverflowError) as exc:
            raise self.error(raw, f"is not a time in format {time_format} ({exc})") from None

    def implied_siblings(self) -> dict[str, Any]:
        return {self.format_parameter: "isot"} if self.format_parameter else {}

    def restrictions(self) -> dict[str, Any]:
        answer = super().restrictions()
        if self.format_parameter:
            answer["format_parameter"] = self.format_parameter
        return answer


def _scale_of(time_format: str) -> str | None:
    # These formats are defined on TAI/TT; astropy picks the right scale itself.
    return None if time_format in ("unix_tai", "gps", "cxcsec") else "utc"


def _plain_iso(text: str) -> str | None:
    if not _PLAIN_ISO.fullmatch(text):
        return None
    try:
        instant = datetime.fromisoformat(text.removesuffix("Z"))
    except ValueError:
        return None  # e.g. a leap second: astropy knows about those
    return instant.strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond // 1000:03d}"


# --- quantities with units ------------------------------------------------------

_QUANTITY = re.compile(r"\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-z].*?)?\s*")


class _Quantity(_Bounded):
    """A number in ``canonical_units``; input may name its units ("10 MeV")."""

    canonical_units = ""
    factors: dict[str, float] = {}

    def __init__(self, name: str, *, units: str | None = None, units_parameter: str | None = None, **options: Any):
        super().__init__(name, units=self.canonical_units, **options)
        self.input_units = units or self.canonical_units
        if self.input_units not in self.factors and not self._astropy_factor(self.input_units):
            raise ValueError(f"{type(self).__name__} {name}: unknown units {self.input_units!r}")
        self.units_parameter = units_parameter
        self.needs = (units_parameter,) if units_parameter else ()
        self._normalize_default()

    def convert(self, raw: Any) -> float:
        return self.convert_in_context(raw, {})

    def implied_siblings(self) -> dict[str, Any]:
        return {self.units_parameter: self.canonical_units} if self.units_parameter else {}

    def convert_in_context(self, raw: Any, context: Mapping[str, Any]) -> float:
        units = context.get(self.units_parameter or "") or self.input_units
        number, written_units = self._split(raw)
        factor = self._factor(raw, written_units or units)
        # Twelve significant digits: "1 MeV" and "1000 keV" give the same value.
        value = float(f"{number * factor:.12g}")
        self.check_bounds(raw, value)
        return value

    def _split(self, raw: Any) -> tuple[float, str]:
        if not isinstance(raw, str):
            return self.to_float(raw), ""
        match = _QUANTITY.fullmatch(raw)
        if match is None:
            raise self.error(raw, f"must be a number, optionally with units (e.g. 10 {self.canonical_units})")
        return self.to_float(match.group(1)), (match.group(2) or "")

    def _factor(self, raw: Any, units: str) -> float:
        factor = self.factors.get(units)
        if factor is None:
            factor = self._astropy_factor(units)
        if factor is None:
            raise self.error(raw, f"has units {units} that cannot be converted to {self.canonical_units}")
        return factor

    def _astropy_factor(self, units: str) -> float | None:
        return None


class Angle(_Quantity):
    """An angle, normalized to degrees. Also accepts sexagesimal text ("05h34m31.9s")."""

    type_name = "angle"
    canonical_units = "deg"
    default_owl_uri = f"{ODA}Angle"
    factors = {"deg": 1.0, "arcmin": 1 / 60, "arcsec": 1 / 3600, "hourangle": 15.0, "rad": 180 / math.pi}

    def _split(self, raw: Any) -> tuple[float, str]:
        if isinstance(raw, str) and re.search(r"\d[hdms:]", raw):
            return self._sexagesimal(raw), "deg"
        return super()._split(raw)

    def _sexagesimal(self, raw: str) -> float:
        from astropy.coordinates import Angle as AstropyAngle

        unit = "hourangle" if "h" in raw else self.input_units
        try:
            return float(AstropyAngle(raw.strip(), unit=unit).deg)
        except (ValueError, TypeError) as exc:
            raise self.error(raw, f"is not an angle ({exc})") from None


class Energy(_Quantity):
    """An energy, normalized to keV; "10 MeV", "2 erg" are converted."""

    type_name = "energy"
    canonical_units = "keV"
    default_owl_uri = f"{ODA}Energy_keV"
    factors = {"eV": 1e-3, "keV": 1.0, "MeV": 1e3, "GeV": 1e6, "TeV": 1e9, "PeV": 1e12}

    def _astropy_factor(self, units: str) -> float | None:
        from astropy import units as u

        try:
            # Energy units only: a wavelength is not proportional to an energy.
            return float(u.Unit(units).to(u.keV))
        except (ValueError, TypeError, u.UnitsError):
            return None


# --- containers -----------------------------------------------------------------


class ListOf(Parameter):
    """A list of values of one type; oda-api sends it JSON-encoded ("[1, 2]")."""

    type_name = "list"
    default_owl_uri = f"{ODA}List"

    def __init__(
        self,
        name: str,
        *,
        item: Parameter,
        min_length: int | None = None,
        max_length: int | None = None,
        **options: Any,
    ):
        super().__init__(name, units=options.pop("units", item.units), **options)
        self.item = item
        self.min_length = min_length
        self.max_length = max_length
        self.needs = item.needs
        self._normalize_default()

    def convert(self, raw: Any) -> list[Any]:
        return self.convert_in_context(raw, {})

    def convert_in_context(self, raw: Any, context: Mapping[str, Any]) -> list[Any]:
        items = self._items(raw)
        if self.min_length is not None and len(items) < self.min_length:
            raise self.error(raw, f"must have at least {self.min_length} items")
        if self.max_length is not None and len(items) > self.max_length:
            raise self.error(raw, f"must have at most {self.max_length} items")
        values = []
        for index, item in enumerate(items):
            try:
                values.append(self.item.convert_in_context(item, context))
            except ParameterError as exc:
                raise self.error(raw, f"item {index}: {exc.reason}") from None
        return values

    def _items(self, raw: Any) -> list[Any]:
        if isinstance(raw, list | tuple):
            return list(raw)
        if not isinstance(raw, str):
            return [raw]
        text = raw.strip()
        if text.startswith("["):
            try:
                decoded = json.loads(text)
            except ValueError:
                raise self.error(raw, "is not a JSON list") from None
            if not isinstance(decoded, list):
                raise self.error(raw, "is not a JSON list")
            return decoded
        # Hand-written requests (curl, a browser) say "1,2,3".
        return [part.strip() for part in text.split(",")]

    def restrictions(self) -> dict[str, Any]:
        answer = {**self.item.restrictions(), **super().restrictions()}
        answer["item_type"] = self.item.type_name
        return answer


class Structured(Parameter):
    """A JSON value checked against a JSON schema; raw text is decoded first."""

    type_name = "structured"
    default_owl_uri = f"{ODA}StructuredParameter"

    def __init__(self, name: str, *, schema: Mapping[str, Any], **options: Any):
        from jsonschema import validators

        super().__init__(name, **options)
        validator_class = validators.validator_for(schema)
        validator_class.check_schema(schema)  # a broken schema is the plugin's bug: fail early
        self.schema = dict(schema)
        self.validator = validator_class(self.schema)
        self._normalize_default()

    def convert(self, raw: Any) -> Any:
        value = raw
        if isinstance(raw, str | bytes):
            try:
                value = json.loads(raw)
            except ValueError:
                raise self.error(raw, "is not valid JSON") from None
        problem = self._first_problem(value)
        if problem:
            raise self.error(raw, f"does not match its schema: {problem}")
        return value

    def _first_problem(self, value: Any) -> str:
        from jsonschema.exceptions import best_match

        error = best_match(self.validator.iter_errors(value))
        if error is None:
            return ""
        where = "/".join(str(part) for part in error.absolute_path)
        return f"{error.message} (at {where})" if where else error.message

    def restrictions(self) -> dict[str, Any]:
        return {**super().restrictions(), "schema": self.schema}


# --- a whole request ----------------------------------------------------------


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
