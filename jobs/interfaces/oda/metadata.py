"""An instrument's description in the ODA protocol's shapes: /api/meta-data and /api/par-names.

/api/meta-data answers the earlier dispatcher's shape, which the frontend's tab
generator reads by position and oda-api prints: one outer list holding one list
per instrument::

    [[{"instrumet": X},                                  # (sic)
      {"prod_dict": {product: "<X>_parameters_<product>_query", ...}},
      [{"query_name": "src_query"}, <parameter>...],     # what to look at and when
      [{"query_name": "<X>_instrument_query"}, <parameter>...],
      [{"query_name": "<X>_parameters_<product>_query"}, {"product_name": product}, <parameter>...],
      ...]]                                              # the asked product, or every one

Each parameter is ``name, units, value`` (its default), ``type``, ``restrictions``
(``is_optional``, and bounds, allowed values... where they apply), ``owl_uri`` and
``extra_metadata`` (label, group, description) when it has them. The source query
ends with the ``token`` every request may carry, as it always did.
"""

from __future__ import annotations

from typing import Any

from instruments.descriptions import InstrumentDescription, ParameterDescription, ProductDescription
from instruments.exceptions import UnknownProduct

Query = list[dict[str, Any]]

# The token is a field of every request; the source query has always listed it.
TOKEN_ENTRY: dict[str, Any] = {
    "name": "token",
    "units": "str",
    "value": None,
    "type": "string",
    "restrictions": {"is_optional": True},
    "owl_uri": "http://odahub.io/ontology#String",
}


def query_name(instrument: str, product: str) -> str:
    return f"{instrument}_parameters_{product}_query"


def meta_data_render(
    description: InstrumentDescription, *, product_type: str | None = None, returns_progress: bool = False
) -> list[list[Any]]:
    """The /api/meta-data answer for one product, or for every product when ``product_type`` is None.

    ``returns_progress``: the instrument serves ``return_progress=True``; its header says so
    (``support_return_progress``), so that a frontend enables its "Return progress" link.
    """
    wanted = _products_wanted(description, product_type)
    name = description.name
    listing: list[Any] = [
        {"instrumet": name, **({"support_return_progress": True} if returns_progress else {})},
        {"prod_dict": {product.name: query_name(name, product.name) for product in description.products}},
        [{"query_name": "src_query"}, *_entries(description.source_parameters), dict(TOKEN_ENTRY)],
        [{"query_name": f"{name}_instrument_query"}, *_entries(description.instrument_parameters)],
    ]
    for product in wanted:
        header = [{"query_name": query_name(name, product.name)}, {"product_name": product.name}]
        listing.append([*header, *_entries(product.own_parameters)])
    return [listing]


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
    extra = {**({"description": parameter.description} if parameter.description else {}), **parameter.extra_metadata}
    if extra:
        entry["extra_metadata"] = extra
    return entry


def _entries(parameters: tuple[ParameterDescription, ...]) -> list[dict[str, Any]]:
    return [parameter_entry(p) for p in parameters]


def _products_wanted(description: InstrumentDescription, product_type: str | None) -> list[ProductDescription]:
    if product_type is None:
        return list(description.products)
    product = description.product(product_type)
    if product is None:
        raise UnknownProduct(description.name, product_type, (p.name for p in description.products))
    return [product]
