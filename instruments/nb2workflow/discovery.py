"""From an nb2workflow ``/api/v1.0/options`` answer to products and typed parameters.

Each target (notebook) becomes a ProductSpec. Each notebook parameter becomes one
of our parameter types, chosen by its ``owl_type`` (the ODA ontology term of its
``# oda:...`` comment). With an ontology (``instruments.ontology``) the term is
looked up through its class hierarchy, the backend's ``extra_ttl`` included: the
first class of the table below met on the way up decides (a notebook's
``oda:ISGRIEnergy`` is an ``Energy_keV``; nb2workflow's class for ``oda:Float;
oda:lower_limit 0.1`` is a ``Float``), and the bounds, allowed values, unit,
format, label, group and description found on the way become the parameter's.
Without the ontology file the backend's ``extra_ttl`` is still read; a term known
to neither falls back on the table alone, then on the ``python_type``.

File references (``POSIXPath``, ``FileURL``, ``FileReference`` and their
subclasses) become our file parameter types: a file sent for one is uploaded, and
the notebook receives its URL on the dispatcher (``jobs.uploads``).

Parameters whose term names the source, the coordinates or the time range take
the common names every frontend sends (``src_name, RA, DEC, T1, T2``); a
:class:`NameMap` per product keeps how our names translate back to the notebook's.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from instruments import parameters
from instruments.base import PROTOCOL_FIELDS, ProductSpec
from instruments.ontology import Ontology, OntologyError, TermFacts
from instruments.parameters import TIME_FORMATS

log = logging.getLogger(__name__)

ODA = "http://odahub.io/ontology#"
XSD = "http://www.w3.org/2001/XMLSchema#"

# Names a notebook parameter may not keep: the common names (when the parameter is
# not annotated as that quantity) and the protocol's own request fields. Such a
# parameter is offered as "<name>_rename", as the previous dispatcher did.
COMMON_NAMES = ("src_name", "RA", "DEC", "T1", "T2")
RESERVED_NAMES = frozenset({*COMMON_NAMES, *PROTOCOL_FIELDS, "T_format"})

PHOTOMETRIC_BANDS = ("b", "g", "H", "i", "J", "K", "L", "M", "N", "Q", "r", "u", "v", "y", "z")


@dataclass(frozen=True)
class Term:
    """How one ontology term becomes a parameter: our type, options, maybe a common name."""

    type_name: str
    common: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    # The notebook's own value format for times ("isot" or "mjd"): our times are
    # ISO-T, converted to it before they are sent.
    time_format: str | None = None
    # Our energies are keV: divided by this before they are sent (1000 for MeV).
    scale: float = 1.0


def _time(common: str | None, fmt: str) -> Term:
    # The common times read the request's T_format; a notebook's other times are
    # written in the notebook's own format.
    options = {"default_format": fmt, "format_parameter": "T_format" if common else None}
    return Term("Time", common, options, time_format=fmt)


ENERGY_UNITS = {"eV": 1e-3, "keV": 1.0, "MeV": 1e3, "GeV": 1e6, "TeV": 1e9}


def _energy(units: str) -> Term:
    return Term("Energy", options={"units": units}, scale=ENERGY_UNITS[units])


_ANGLE = Term("Angle", options={"units": "deg"})

# ODA ontology terms (the part after "#"); subclasses of these in the ontology that
# are not listed fall back on the python type.
ODA_TERMS: dict[str, Term] = {
    "AstrophysicalObject": Term("String", "src_name"),
    "PointOfInterestRA": Term("Angle", "RA", {"units": "deg", "min_value": 0, "max_value": 360}),
    "PointOfInterestDEC": Term("Angle", "DEC", {"units": "deg", "min_value": -90, "max_value": 90}),
    "RightAscension": _ANGLE,
    "RightAscensionDegrees": _ANGLE,
    "Declination": _ANGLE,
    "DeclinationDegrees": _ANGLE,
    "Angle": _ANGLE,
    "AngleDegrees": _ANGLE,
    "StartTime": _time("T1", "isot"),
    "StartTimeISOT": _time("T1", "isot"),
    "StartTimeMJD": _time("T1", "mjd"),
    "EndTime": _time("T2", "isot"),
    "EndTimeISOT": _time("T2", "isot"),
    "EndTimeMJD": _time("T2", "mjd"),
    "TimeInstant": _time(None, "isot"),
    "TimeInstantISOT": _time(None, "isot"),
    "TimeInstantMJD": _time(None, "mjd"),
    **{f"Energy_{units}": _energy(units) for units in ENERGY_UNITS},
    "Energy": _energy("keV"),
    "TimeInterval": Term("Float", options={"units": "s"}),
    "TimeIntervalSeconds": Term("Float", options={"units": "s"}),
    "TimeIntervalDays": Term("Float", options={"units": "day"}),
    "Percentage": Term("Float", options={"min_value": 0, "max_value": 100}),
    "Float": Term("Float"),
    "Integer": Term("Integer"),
    "String": Term("String"),
    "LongString": Term("String"),
    "Boolean": Term("Boolean"),
    "PhotometricBand": Term("Enum", options={"allowed_values": list(PHOTOMETRIC_BANDS)}),
    "VisibleBand": Term("Enum", options={"allowed_values": ["b", "g", "r", "v"]}),
    "POSIXPath": Term("POSIXPath"),
    "FileURL": Term("FileURL"),
    "FileReference": Term("FileReference"),
}
# Our types that take the ontology's bounds, and those that take its allowed values.
BOUNDED_TYPES = frozenset({"Float", "Integer", "Energy", "Angle"})
ENUMERABLE_TYPES = frozenset({"String", "Float", "Integer"})

XSD_TERMS: dict[str, Term] = {
    "int": Term("Integer"),
    "integer": Term("Integer"),
    "long": Term("Integer"),
    "float": Term("Float"),
    "double": Term("Float"),
    "decimal": Term("Float"),
    "string": Term("String"),
    "bool": Term("Boolean"),
    "boolean": Term("Boolean"),
}

PYTHON_TERMS: dict[str, Term] = {
    "int": Term("Integer"),
    "float": Term("Float"),
    "str": Term("String"),
    "bool": Term("Boolean"),
    "list": Term("Structured", options={"schema": {"type": "array"}}),
    "dict": Term("Structured", options={"schema": {"type": "object"}}),
}


@dataclass(frozen=True)
class NameMap:
    """How one product's values (by our names) become the notebook's request arguments."""

    to_notebook: dict[str, str]  # our name -> the notebook's
    time_formats: dict[str, str] = field(default_factory=dict)  # our name -> "isot" | "mjd"
    scales: dict[str, float] = field(default_factory=dict)  # our name -> divisor (energies)


@dataclass(frozen=True)
class Discovery:
    """What one options answer offers.

    ``common`` holds the source, coordinates and time range (with ``T_format``)
    found in any notebook, the first notebook's declaration winning; products keep
    their other parameters. A notebook is only sent the values it declares.
    """

    products: dict[str, ProductSpec]
    common: tuple[Any, ...]
    names: dict[str, NameMap]
    outputs: dict[str, dict[str, dict[str, Any]]]  # product -> output name -> declaration


def term_for(owl_type: str | None, python_type: Any, facts: TermFacts | None = None) -> Term:
    """The term of the first known class of ``owl_type``'s lineage (``facts``), else of the
    declared python type, else String."""
    lineage = facts.lineage if facts is not None and facts.lineage else (owl_type or "",)
    for uri in lineage:
        known = _known_term(uri)
        if known is not None:
            return known
    return PYTHON_TERMS.get(python_type_name(python_type), Term("String"))


def _known_term(uri: str) -> Term | None:
    if uri.startswith(ODA):
        return ODA_TERMS.get(uri[len(ODA) :])
    if uri.startswith(XSD):
        return XSD_TERMS.get(uri[len(XSD) :])
    return None


def term_facts(ontology: Ontology, declaration: Mapping[str, Any], *, what: str) -> TermFacts:
    """What the ontology and the declaration's ``extra_ttl`` say of its ``owl_type``.

    Turtle that cannot be read is logged and left out: the type still decides.
    """
    owl_type = declaration.get("owl_type")
    try:
        return ontology.facts(owl_type, declaration.get("extra_ttl"))
    except OntologyError as error:
        log.warning("nb2workflow %s: %s; its owl_type alone is used", what, error)
        return ontology.facts(owl_type)


def refined_term(term: Term, facts: TermFacts) -> Term:
    """The term with what the ontology says on top: bounds, allowed values, unit, time format."""
    options = dict(term.options)
    if term.type_name == "Energy" and facts.unit in ENERGY_UNITS and facts.unit != options.get("units"):
        term = Term("Energy", term.common, {**options, "units": facts.unit}, scale=ENERGY_UNITS[facts.unit])
        options = dict(term.options)
    if term.type_name == "Time" and facts.format in ("isot", "mjd") and facts.format != term.time_format:
        return _time(term.common, facts.format)
    if term.type_name in BOUNDED_TYPES:
        # Bounds are written in the notebook's units; our energies are keV.
        for key, bound in (("min_value", facts.min_value), ("max_value", facts.max_value)):
            if bound is not None:
                options[key] = float(f"{bound * term.scale:.12g}")
    elif term.type_name in ("Float", "Integer") and facts.unit:
        options.setdefault("units", facts.unit)
    if term.type_name in ENUMERABLE_TYPES and facts.allowed_values:
        options["allowed_values"] = list(facts.allowed_values)
    return Term(term.type_name, term.common, options, time_format=term.time_format, scale=term.scale)


def python_type_name(python_type: Any) -> str:
    """'float' from nb2workflow's ``{"type_object": "<class 'float'>"}``."""
    text = python_type.get("type_object", "") if isinstance(python_type, dict) else str(python_type or "")
    return text.removeprefix("<class '").removesuffix("'>")


def discover(options: Mapping[str, Any], ontology: Ontology | None = None) -> Discovery:
    """Products, common parameters, name maps and output declarations of an options answer."""
    ontology = ontology if ontology is not None else Ontology()
    products, names, outputs, common = {}, {}, {}, {}
    for target, description in options.items():
        if not isinstance(description, dict):
            continue
        own, target_common, name_map = _parameters(target, description.get("parameters") or {}, ontology)
        for parameter in target_common:
            common.setdefault(parameter.name, parameter)
        products[target] = ProductSpec(name=target, parameters=own, description=f"nb2workflow notebook {target}")
        names[target] = name_map
        outputs[target] = dict(description.get("output") or {})
    if any(getattr(p, "format_parameter", None) == "T_format" for p in common.values()):
        common["T_format"] = _instantiate(
            "Enum", "T_format", {"allowed_values": TIME_FORMATS, "default": "isot", "owl_uri": f"{ODA}TimeFormat"}
        )
    return Discovery(products=products, common=tuple(common.values()), names=names, outputs=outputs)


def _parameters(
    target: str, declared: Mapping[str, Any], ontology: Ontology
) -> tuple[tuple[Any, ...], list[Any], NameMap]:
    own, common, to_notebook, time_formats, scales = [], [], {}, {}, {}
    for nb_name, declaration in declared.items():
        facts = term_facts(ontology, declaration, what=f"{target}.{nb_name}")
        term = refined_term(term_for(declaration.get("owl_type"), declaration.get("python_type"), facts), facts)
        ours = _our_name(nb_name, term, taken=to_notebook)
        to_notebook[ours] = nb_name
        if term.time_format:
            time_formats[ours] = term.time_format
        if term.scale != 1.0:
            scales[ours] = term.scale
        parameter = _build(target, ours, term, declaration, facts.extra_metadata)
        (common if ours in COMMON_NAMES else own).append(parameter)
    return tuple(own), common, NameMap(to_notebook=to_notebook, time_formats=time_formats, scales=scales)


def _our_name(nb_name: str, term: Term, *, taken: Mapping[str, str]) -> str:
    if term.common and term.common not in taken:
        return term.common
    if nb_name in RESERVED_NAMES or nb_name in taken:
        return f"{nb_name}_rename"
    return nb_name


def _build(target: str, name: str, term: Term, declaration: Mapping[str, Any], extra: dict[str, str]) -> Any:
    """Our parameter object; a type that refuses the notebook's default becomes a String."""
    options = {
        **term.options,
        "default": declaration.get("default_value"),
        "optional": bool(declaration.get("is_optional", False)),
        "owl_uri": declaration.get("owl_type") or None,
        "description": f"notebook parameter {declaration.get('name') or name}",
        "extra_metadata": extra,
    }
    try:
        return _instantiate(term.type_name, name, options)
    except (ValueError, TypeError) as error:  # a refused default must not hide the product
        log.warning("nb2workflow %s: parameter %s as %s failed (%s); offered as text", target, name, term, error)
        plain = {k: options[k] for k in ("optional", "owl_uri", "description", "extra_metadata")}
        default = options["default"]
        plain["default"] = default if default is None or isinstance(default, str) else json.dumps(default)
        return _instantiate("String", name, plain)


def _instantiate(type_name: str, name: str, options: Mapping[str, Any]) -> Any:
    return getattr(parameters, type_name)(name, **options)
