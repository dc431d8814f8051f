"""Quantities with units: angles in degrees, energies in keV."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from instruments.parameters.base import (
    ODA,
)
from instruments.parameters.scalars import _Bounded

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
