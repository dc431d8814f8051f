"""Times, in the formats astropy knows; normalized to ISO-T UTC."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from instruments.descriptions import Restrictions
from instruments.parameters.base import (
    ODA,
    Parameter,
    _finite_float,
)

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

    def restrictions(self) -> Restrictions:
        return replace(super().restrictions(), format_parameter=self.format_parameter or None)


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
