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

from instruments.parameters.base import (
    NONE_MARKER,
    ODA,
    Parameter,
    ParameterError,
    dependency_order,
    normalize_parameters,
)
from instruments.parameters.composite import ListOf, Structured
from instruments.parameters.quantities import Angle, Energy
from instruments.parameters.scalars import (
    Boolean,
    Enum,
    File,
    FileReference,
    FileURL,
    Float,
    Integer,
    POSIXPath,
    String,
)
from instruments.parameters.times import TIME_FORMATS, Time

__all__ = [
    "NONE_MARKER",
    "ODA",
    "TIME_FORMATS",
    "Angle",
    "Boolean",
    "Energy",
    "Enum",
    "File",
    "FileReference",
    "FileURL",
    "Float",
    "Integer",
    "ListOf",
    "POSIXPath",
    "Parameter",
    "ParameterError",
    "String",
    "Structured",
    "Time",
    "dependency_order",
    "normalize_parameters",
]
