"""An instrument's description in the ODA protocol's shapes: /api/meta-data and /api/par-names.

/api/meta-data lists queries, each a header then one entry per parameter: the
source query (what to look at and when), the instrument query (the other common
parameters, with ``prod_dict`` naming every product's query), then one query per
product asked for (all of them when none is named) with the product's own
parameters.
"""

from __future__ import annotations

from typing import Any

from instruments.descriptions import InstrumentDescription, ParameterDescription, ProductDescription
from instruments.exceptions import UnknownProduct

Query = list[dict[str, Any]]


def meta_data_render(description: InstrumentDescription, *, product_type: str | None = None) -> list[Query]:
    """The /api/meta-data answer for one product, or for every product when ``product_type`` is None."""
    wanted = _products_wanted(description, product_type)
    name = description.name
    prod_dict = {product.name: f"{product.name}_query" for product in description.products}
    queries = [
        _query({"query_name": "src_query"}, description.source_parameters),
        _query(
            {"query_name": f"{name}_parameters", "instrument": name, "prod_dict": prod_dict},
            description.instrument_parameters,
        ),
    ]
    for product in wanted:
        header = {"query_name": f"{product.name}_query", "product_name": product.name}
        queries.append(_query(header, product.own_parameters))
    return queries


def par_names_render(description: InstrumentDescription, *, product_type: str | None = None) -> list[str]:
    """The /api/par-names answer: every name /run_analysis accepts for the product(s), then "token"."""
    names: dict[str, None] = {}
    for product in _products_wanted(description, product_type):
        names.update(dict.fromkeys(p.name for p in product.parameters))
    return [*names, "token"]


def parameter_entry(parameter: ParameterDescription) -> dict[str, Any]:
    """One parameter's entry in a query."""
    entry: dict[str, Any] = {
        "name": parameter.name,
        "units": parameter.units,
        "value": parameter.default,
        "type": parameter.type,
        "restrictions": parameter.restrictions.as_mapping(),
    }
    if parameter.owl_uri:
        entry["owl_uri"] = parameter.owl_uri
    return entry


def _query(header: dict[str, Any], parameters: tuple[ParameterDescription, ...]) -> Query:
    return [header, *(parameter_entry(p) for p in parameters)]


def _products_wanted(description: InstrumentDescription, product_type: str | None) -> list[ProductDescription]:
    if product_type is None:
        return list(description.products)
    product = description.product(product_type)
    if product is None:
        raise UnknownProduct(description.name, product_type, (p.name for p in description.products))
    return [product]
