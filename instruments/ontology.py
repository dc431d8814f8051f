"""The ODA ontology, read with rdflib: what a term is, through its class hierarchy.

Backends name the type of a parameter or an output by an ontology term (an
``owl_type`` URI such as ``http://odahub.io/ontology#ISGRIEnergy``), and may add
Turtle of their own (nb2workflow's ``extra_ttl``) that defines a new class below
a known one with annotations: ``oda:lower_limit``, ``oda:upper_limit``,
``oda:allowed_value``, ``oda:unit``, ``oda:format``, ``oda:label``, ``oda:group``,
``oda:description``.

:meth:`Ontology.facts` answers, for one term (and its extra Turtle):

- its *lineage*: the term, then every class above it, nearest first (through
  ``rdfs:subClassOf`` and ``rdf:type``), so that a caller finds the first class it
  knows;
- its restrictions, from the annotations above and from the ontology's own OWL
  restrictions on ``oda:value`` (``xsd:minInclusive``/``maxInclusive`` bounds,
  ``owl:oneOf`` allowed values), ``oda:has_unit`` and ``oda:has_format``. Bounds
  are the tightest met on the way up; allowed values, unit and format the nearest;
- its label, group and description, from annotations on the term itself only (a
  superclass's label names the superclass, not this parameter).

The published ontology (``DISPATCHER_ONTOLOGY_PATH``) is parsed once per process
and file version (:func:`ontology_load`); without it, the same questions are
answered from the extra Turtle alone, and callers fall back on their own table of
terms. Nothing here knows our parameter types: ``instruments.nb2workflow`` maps.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rdflib
from rdflib import BNode, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, XSD

log = logging.getLogger(__name__)

ODA = rdflib.Namespace("http://odahub.io/ontology#")
ODA_UNIT = "http://odahub.io/ontology/unit#"
# The prefixes nb2workflow's extra Turtle may use without declaring them.
_PREFIXES = f"@prefix oda: <{ODA}> .\n@prefix unit: <{ODA_UNIT}> .\n@prefix xsd: <{XSD}> .\n@prefix rdfs: <{RDFS}> .\n"
_MAX_LINEAGE = 200  # a cycle in someone's Turtle must not loop forever


class OntologyError(ValueError):
    """Turtle that cannot be read."""


@dataclass(frozen=True)
class TermFacts:
    """What the ontology (and the backend's extra Turtle) say about one term."""

    uri: str
    lineage: tuple[str, ...]  # the term itself, then its superclasses, nearest first
    min_value: float | None = None
    max_value: float | None = None
    allowed_values: tuple[Any, ...] | None = None
    unit: str | None = None  # a symbol: "keV", "deg", "s"
    format: str | None = None  # a symbol: "isot", "mjd"
    label: str | None = None
    group: str | None = None
    description: str | None = None

    def descends_from(self, uri: str) -> bool:
        return uri in self.lineage

    @property
    def extra_metadata(self) -> dict[str, str]:
        """Label, group and description, those given, as forms show them beside a value."""
        found = {"label": self.label, "group": self.group, "description": self.description}
        return {key: value for key, value in found.items() if value}


class Ontology:
    """A read-only view of the ontology graph, to which extra Turtle may be added per question."""

    def __init__(self, graph: rdflib.Graph | None = None, *, source: str = ""):
        self.graph = graph if graph is not None else rdflib.Graph()
        self.source = source

    def __repr__(self) -> str:
        return f"Ontology({self.source or 'empty'}, {len(self.graph)} triples)"

    def facts(self, uri: str | None, extra_ttl: str | None = None) -> TermFacts:
        """The facts of ``uri``; ``extra_ttl`` (Turtle) is read beside the ontology, for this question only.

        Raises OntologyError when the extra Turtle is not Turtle.
        """
        uri = (uri or "").strip()
        graphs = (*_extra_graph(extra_ttl), self.graph)
        if not uri:
            return TermFacts(uri="", lineage=())
        term = URIRef(uri)
        lineage = _lineage(graphs, term)
        low, high = _bounds(graphs, lineage)
        return TermFacts(
            uri=uri,
            lineage=tuple(str(node) for node in lineage),
            min_value=low,
            max_value=high,
            allowed_values=_nearest(graphs, lineage, _allowed_values),
            unit=_nearest(graphs, lineage, lambda gs, node: _symbol_of(gs, _valued(gs, node, "unit"))),
            format=_nearest(graphs, lineage, lambda gs, node: _symbol_of(gs, _valued(gs, node, "format"))),
            label=_annotation(graphs, term, "label"),
            group=_annotation(graphs, term, "group"),
            description=_annotation(graphs, term, "description"),
        )

    def subclasses_of(self, uri: str) -> frozenset[str]:
        """Every class below ``uri`` in the ontology itself (``uri`` included)."""
        found, pending = {URIRef(uri)}, [URIRef(uri)]
        while pending:
            for child in self.graph.subjects(RDFS.subClassOf, pending.pop()):
                if isinstance(child, URIRef) and child not in found:
                    found.add(child)
                    pending.append(child)
        return frozenset(str(node) for node in found)


# --- loading ------------------------------------------------------------------------

_lock = threading.Lock()


def ontology_load(path: str | Path | None) -> Ontology:
    """The ontology at ``path`` (Turtle), parsed once per file version; an empty one without a path.

    A file that cannot be read or parsed is logged and treated as absent, so that
    instruments stay usable with the built-in table of terms.
    """
    if not path:
        return Ontology()
    path = Path(path)
    try:
        version = path.stat().st_mtime_ns
    except OSError as error:
        log.error("ontology %s cannot be read (%s); using the built-in terms", path, error)
        return Ontology()
    with _lock:
        return _parsed(str(path), version)


@functools.lru_cache(maxsize=4)
def _parsed(path: str, version: int) -> Ontology:
    graph = rdflib.Graph()
    try:
        graph.parse(path, format="turtle")
    except Exception as error:  # rdflib raises many kinds; any of them means "not usable"
        log.error("ontology %s is not valid Turtle (%s); using the built-in terms", path, error)
        return Ontology(source=path)
    log.info("ontology %s: %d triples", path, len(graph))
    return Ontology(graph, source=path)


@functools.lru_cache(maxsize=512)
def _extra_graph_cached(ttl: str) -> rdflib.Graph:
    graph = rdflib.Graph()
    try:
        graph.parse(data=_PREFIXES + ttl, format="turtle")
    except Exception as error:  # a backend's Turtle: any parse failure is the backend's
        raise OntologyError(f"extra Turtle that cannot be read: {error}") from None
    return graph


def _extra_graph(ttl: str | None) -> tuple[rdflib.Graph, ...]:
    if not ttl or not ttl.strip():
        return ()
    return (_extra_graph_cached(ttl),)


# --- walking the graphs ---------------------------------------------------------------

Graphs = tuple[rdflib.Graph, ...]


def _objects(graphs: Graphs, subject: Any, predicate: Any) -> Iterator[Any]:
    for graph in graphs:
        yield from graph.objects(subject, predicate)


def _lineage(graphs: Graphs, term: URIRef) -> list[URIRef]:
    """The term and every named class above it, breadth first (nearest first)."""
    lineage, queue = [term], [term]
    while queue and len(lineage) < _MAX_LINEAGE:
        node = queue.pop(0)
        for predicate in (RDFS.subClassOf, RDF.type):
            for parent in _objects(graphs, node, predicate):
                if isinstance(parent, URIRef) and parent not in lineage and parent != OWL.Class:
                    lineage.append(parent)
                    queue.append(parent)
    return lineage


def _restrictions(graphs: Graphs, node: URIRef, prop: URIRef) -> Iterator[BNode]:
    """The anonymous OWL restrictions on ``prop`` that ``node`` is declared a subclass of."""
    for parent in _objects(graphs, node, RDFS.subClassOf):
        if isinstance(parent, BNode) and prop in set(_objects(graphs, parent, OWL.onProperty)):
            yield parent


def _value_datatypes(graphs: Graphs, node: URIRef) -> Iterator[Any]:
    for restriction in _restrictions(graphs, node, ODA.value):
        yield from _objects(graphs, restriction, OWL.allValuesFrom)


def _rdf_list(graphs: Graphs, head: Any) -> list[Any]:
    for graph in graphs:
        if (head, RDF.first, None) in graph:
            return list(Collection(graph, head))
    return []


def _python(value: Any) -> Any:
    return value.toPython() if isinstance(value, Literal) else str(value)


def _number(value: Any) -> float | None:
    try:
        return float(_python(value))
    except (TypeError, ValueError):
        return None


def _bounds(graphs: Graphs, lineage: Iterable[URIRef]) -> tuple[float | None, float | None]:
    """The tightest bounds declared anywhere up the lineage (annotations and OWL restrictions)."""
    lows, highs = [], []
    for node in lineage:
        lows += [_number(v) for v in _objects(graphs, node, ODA.lower_limit)]
        highs += [_number(v) for v in _objects(graphs, node, ODA.upper_limit)]
        for datatype in _value_datatypes(graphs, node):
            for facet_node in _rdf_list(graphs, next(_objects(graphs, datatype, OWL.withRestrictions), None)):
                lows += [_number(v) for v in _objects(graphs, facet_node, XSD.minInclusive)]
                highs += [_number(v) for v in _objects(graphs, facet_node, XSD.maxInclusive)]
    lows = [v for v in lows if v is not None]
    highs = [v for v in highs if v is not None]
    return (max(lows) if lows else None, min(highs) if highs else None)


def _allowed_values(graphs: Graphs, node: URIRef) -> tuple[Any, ...] | None:
    annotated = [_python(v) for v in _objects(graphs, node, ODA.allowed_value)]
    if annotated:
        return tuple(sorted(annotated, key=str))
    for datatype in _value_datatypes(graphs, node):
        listed = _rdf_list(graphs, next(_objects(graphs, datatype, OWL.oneOf), None))
        if listed:
            return tuple(_python(v) for v in listed)
    return None


def _valued(graphs: Graphs, node: URIRef, what: str) -> Any:
    """``oda:unit`` / ``oda:format`` of a class, or the ``oda:has_unit`` / ``has_format`` value it is restricted to."""
    for value in _objects(graphs, node, ODA[what]):
        return value
    for restriction in _restrictions(graphs, node, ODA[f"has_{what}"]):
        for value in _objects(graphs, restriction, OWL.hasValue):
            return value
    return None


def _symbol_of(graphs: Graphs, value: Any) -> str | None:
    """A unit's or format's symbol (``oda:symbol``, else its label, else the name after '#')."""
    if value is None:
        return None
    if isinstance(value, Literal):
        return str(value)
    for predicate in (ODA.symbol, RDFS.label):
        for symbol in _objects(graphs, value, predicate):
            return str(symbol)
    return str(value).rsplit("#", 1)[-1] or None


def _nearest(graphs: Graphs, lineage: Iterable[URIRef], find: Any) -> Any:
    for node in lineage:
        found = find(graphs, node)
        if found is not None:
            return found
    return None


def _annotation(graphs: Graphs, term: URIRef, name: str) -> str | None:
    values = [str(v) for v in _objects(graphs, term, ODA[name])]
    return " ".join(values) if values else None
