"""From a notebook's output values to the protocol's product lists.

Each output declared in the options' ``output`` section is placed by its
``owl_type`` annotation (through the ontology's class hierarchy and the output's
``extra_ttl``, when an ontology is given: the first class of a kind below met on
the way up decides), then by the shape of its value:

- comment (``oda:WorkflowResultComment``, or an output named ``comment`` that is
  unannotated or annotated as text) -> ``Products.comment``;
- numpy data (``oda:NumpyData``, ``LightCurve``, ``Spectrum``, ``Image``): an
  oda-api encoded NumpyDataProduct (a dict with ``data_unit_list``) as it is, or a
  plain array (nb2workflow sends numpy arrays as lists) as one data unit ->
  ``numpy_data_product_list``;
- astropy tables (``oda:ODAAstropyTable``): an encoded ODAAstropyTable (a dict
  with ``ascii``, or with ``binary``: a pickled table, read back with only table,
  unit and array classes allowed) or ECSV text -> ``astropy_table_product_ascii_list``
  (as ECSV, and a ``.ecsv`` file);
- binary (``oda:ODABinaryProduct``): base64 text or an encoded BinaryProduct ->
  ``binary_data_product_list`` with the md5 of the raw bytes (and a file);
- pictures (``oda:ODABinaryImage``, ``ODAPictureProduct``): base64 PNG/JPEG/GIF
  or an encoded PictureProduct -> ``binary_image_product_list`` (and a file);
- a file the notebook wrote (nb2workflow adds ``<name>_content``, its base64):
  a picture when its bytes are one, else binary;
- workflow parameters (a term below ``oda:WorkflowParameter``, e.g. ``oda:Float``,
  or one of the parameter terms nb2workflow knows) -> ``text_product_list`` with
  ``meta_data.uri``, whatever the value's shape;
- text, numbers and everything else -> ``text_product_list`` (JSON text for
  values that are not strings).

An unannotated value that has one of the encoded shapes above is recognised by it.
Every product is also named in the answer's ``extra_metadata`` (its label, group
and description from the output's ``extra_ttl``) and ``prod_uris`` (its owl_type),
as the earlier dispatcher's plugin gave them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import logging
import pickle
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from instruments.base import Products
from instruments.ontology import Ontology, OntologyError, TermFacts

log = logging.getLogger(__name__)

ODA = "http://odahub.io/ontology#"
COMMENT_TERMS = frozenset({"WorkflowResultComment"})
NUMPY_TERMS = frozenset({"NumpyData", "NumpyDataProduct", "LightCurve", "LightCurveList", "Spectrum", "Image"})
TABLE_TERMS = frozenset({"ODAAstropyTable", "AstropyTable"})
BINARY_TERMS = frozenset({"ODABinaryProduct", "BinaryProduct"})
IMAGE_TERMS = frozenset({"ODABinaryImage", "ODAPictureProduct", "PictureProduct", "BinaryImage"})
COMMENT_NAMES = frozenset({"comment", "workflow_comment", "result_comment"})
TEXT_TERMS = frozenset({"", "String", "LongString", "ODATextProduct"})
# Outputs that are values of a parameter's kind (the ontology's WorkflowParameter products).
PARAMETER_TERMS = frozenset({"WorkflowParameter", "ParameterProduct"})
# nb2workflow's parameter terms known without the ontology (those of instruments.nb2workflow.discovery).
KNOWN_PARAMETER_TERMS = frozenset(
    {"Float", "Integer", "Boolean", "Angle", "Energy", "TimeInstant", "TimeInterval", "Percentage"}
)

IMAGE_MAGIC = {b"\x89PNG\r\n\x1a\n": "png", b"\xff\xd8\xff": "jpeg", b"GIF8": "gif"}


def products_from_output(
    output: Mapping[str, Any], declarations: Mapping[str, Mapping[str, Any]], ontology: Ontology | None = None
) -> Products:
    """The products of one notebook run (``output`` as nb2workflow returns it)."""
    ontology = ontology if ontology is not None else Ontology()
    products = Products()
    extra_metadata: dict[str, dict[str, str]] = {}
    prod_uris: dict[str, str | None] = {}
    attachments = {f"{name}_{suffix}" for name in output for suffix in ("content", "url")}
    names = [*declarations, *(n for n in output if n not in declarations and n not in attachments)]
    for name in names:
        if name not in output:
            continue
        declaration = declarations.get(name) or {}
        owl_type = declaration.get("owl_type") or ""
        facts = _facts(ontology, owl_type, declaration.get("extra_ttl"), name)
        before = {list_name: len(getattr(products, list_name)) for list_name in Products.PROTOCOL_LISTS}
        if _place(products, name, output[name], owl_type, output.get(f"{name}_content"), _term(owl_type, facts)):
            extra_metadata[name] = facts.extra_metadata
            prod_uris[name] = owl_type or None
            _label_entries(products, before, facts.extra_metadata)
    if prod_uris:
        products.extra.update(extra_metadata=extra_metadata, prod_uris=prod_uris)
    return products


def _label_entries(products: Products, before: Mapping[str, int], extra: Mapping[str, str]) -> None:
    """The entries one output just became carry its label too, in their own meta data
    (``meta_data.extra_metadata``), where a renderer of single entries finds it."""
    if not extra:
        return
    for list_name, size in before.items():
        for entry in getattr(products, list_name)[size:]:
            meta = entry.get("metadata" if list_name == "binary_image_product_list" else "meta_data")
            if isinstance(meta, dict):
                meta["extra_metadata"] = dict(extra)


def _facts(ontology: Ontology, owl_type: str, extra_ttl: Any, name: str) -> TermFacts:
    try:
        return ontology.facts(owl_type, extra_ttl if isinstance(extra_ttl, str) else None)
    except OntologyError as error:
        log.warning("nb2workflow output %s: %s; its owl_type alone is used", name, error)
        return ontology.facts(owl_type)


def _term(owl_type: str, facts: TermFacts) -> str:
    """The output's kind: the first term of a kind we place met up its lineage, else its own name."""
    kinds = COMMENT_TERMS | NUMPY_TERMS | TABLE_TERMS | BINARY_TERMS | IMAGE_TERMS | TEXT_TERMS | PARAMETER_TERMS
    for uri in facts.lineage or (owl_type,):
        term = uri.removeprefix(ODA) if uri.startswith(ODA) else ""
        if term in kinds - {""} or term in KNOWN_PARAMETER_TERMS:
            return term
    return owl_type.removeprefix(ODA) if owl_type.startswith(ODA) else ""


def _place(products: Products, name: str, value: Any, owl_type: str, file_content: Any, term: str) -> bool:
    """Put one output where it belongs; False for the workflow's comment (no product of its own)."""
    if term in COMMENT_TERMS or (name.lower() in COMMENT_NAMES and term in TEXT_TERMS):
        products.comment = "\n".join(filter(None, [products.comment, _as_text(value)]))
        return False
    if term in PARAMETER_TERMS or term in KNOWN_PARAMETER_TERMS:
        _add_text(products, name, value, owl_type)
    elif isinstance(file_content, str):
        _add_file_output(products, name, value, file_content, term)
    elif term in NUMPY_TERMS or _is_numpy(_decode_json(value)):
        _add_numpy(products, name, _decode_json(value), owl_type)
    elif term in TABLE_TERMS or _is_table(_decode_json(value)):
        _add_table(products, name, _decode_json(value), owl_type)
    elif term in IMAGE_TERMS or _is_picture(_decode_json(value)):
        _add_picture(products, name, _decode_json(value), owl_type)
    elif term in BINARY_TERMS or _is_binary(_decode_json(value)):
        _add_binary(products, name, _decode_json(value), owl_type)
    else:
        _add_text(products, name, value, owl_type)
    return True


# --- shapes -------------------------------------------------------------------------


def _decode_json(value: Any) -> Any:
    """nb2workflow sends values it cannot glue as JSON text: read them back."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _is_numpy(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("data_unit_list"), list)


def _is_table(value: Any) -> bool:
    return isinstance(value, dict) and (isinstance(value.get("ascii"), str) or isinstance(value.get("binary"), str))


def _is_picture(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("b64data"), str)


def _is_binary(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("data"), str) and "md5" in value


def _fallback(products: Products, name: str, value: Any, owl_type: str) -> None:
    """A value that does not have the shape its annotation promises: keep it as text."""
    _add_text(products, name, value, owl_type, note="not in the annotated form; kept as text")


# --- numpy --------------------------------------------------------------------------


def _add_numpy(products: Products, name: str, value: Any, owl_type: str) -> None:
    items = value if isinstance(value, list) and value and all(_is_numpy(v) for v in value) else [value]
    for item in items:
        entry = _numpy_entry(name, item, owl_type)
        if entry is None:
            _fallback(products, name, value, owl_type)
            return
        products.numpy_data_product_list.append(entry)


def _numpy_entry(name: str, value: Any, owl_type: str) -> dict[str, Any] | None:
    if _is_numpy(value):
        return {
            "name": value.get("name") or name,
            "meta_data": {**_meta(value.get("meta_data")), **_uri(owl_type)},
            "data_unit_list": [_unit(u) for u in value["data_unit_list"]],
        }
    unit = _unit_from_array(name, value)
    if unit is None:
        return None
    return {"name": name, "meta_data": _uri(owl_type), "data_unit_list": [unit]}


def _unit(unit: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": unit.get("name", ""),
        "hdu_type": unit.get("hdu_type", "image"),
        "header": unit.get("header") or {},
        "meta_data": _meta(unit.get("meta_data")),
        "units_dict": unit.get("units_dict"),
        "binarys": unit.get("binarys"),
        "data": unit.get("data"),
        "dt": unit.get("dt"),
    }


def _unit_from_array(name: str, value: Any) -> dict[str, Any] | None:
    """A plain (numeric) array as one data unit whose ``data`` Python evaluates.

    oda-api turns each row of ``data`` into a tuple, so a 1-d array is sent as a
    one-column table named after the output, and n-d arrays as images.
    """
    try:
        array = np.asarray(value)
    except (ValueError, TypeError):
        return None
    if array.ndim == 0 or array.size == 0 or array.dtype.kind not in "biuf":
        return None
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        return None  # NaN/Infinity cannot travel in the protocol's JSON
    unit = {"name": name, "header": {}, "meta_data": {}, "units_dict": None, "binarys": None}
    if array.ndim == 1:
        dtype = [(name, array.dtype.str)]
        rows = [[x] for x in array.tolist()]
        return {**unit, "hdu_type": "table", "data": json.dumps(rows), "dt": repr(dtype)}
    return {**unit, "hdu_type": "image", "data": json.dumps(array.tolist()), "dt": array.dtype.str}


# --- tables, pictures, binary, text -------------------------------------------------


def _add_table(products: Products, name: str, value: Any, owl_type: str) -> None:
    if _is_table(value):
        ascii_text, table_name, meta = _table_ascii(value), value.get("name") or name, _meta(value.get("meta_data"))
        if ascii_text is None:
            _fallback(products, name, {k: v for k, v in value.items() if k != "binary"}, owl_type)
            return
    elif isinstance(value, str) and value.lstrip().startswith("# %ECSV"):
        ascii_text, table_name, meta = value, name, {}
    else:
        _fallback(products, name, value, owl_type)
        return
    products.astropy_table_product_ascii_list.append(
        {"name": table_name, "meta_data": {**meta, **_uri(owl_type)}, "ascii": ascii_text}
    )
    products.files[_file_name(name, "ecsv")] = ascii_text.encode()


def _table_ascii(value: Mapping[str, Any]) -> str | None:
    """ECSV text of an encoded ODAAstropyTable: its ``ascii``, or its ``binary`` (a pickle) read back."""
    if isinstance(value.get("ascii"), str):
        return value["ascii"]
    raw = _b64decode(value["binary"])
    if raw is None:
        return None
    try:
        table = _TableUnpickler(io.BytesIO(raw)).load()
    except Exception as error:  # any failure of a backend's pickle means "not a table"
        log.warning("a binary table could not be read: %s", error)
        return None
    from astropy.table import Table

    if not isinstance(table, Table):
        return None
    text = io.StringIO()
    table.write(text, format="ascii.ecsv")
    return text.getvalue()


class _TableUnpickler(pickle.Unpickler):
    """Reads oda-api's binary tables (pickled astropy tables) and nothing else.

    A pickle may name any callable; only the classes a table is made of (astropy's
    tables, columns and units, numpy's arrays) and the few helpers that rebuild them
    are found, so a backend's answer cannot run code of its choosing here.
    """

    HELPERS = frozenset(
        {
            ("_codecs", "encode"),
            ("collections", "OrderedDict"),
            ("copyreg", "_reconstructor"),
            ("builtins", "object"),
            ("builtins", "slice"),
            ("builtins", "complex"),
            ("numpy", "dtype"),
            ("numpy", "ndarray"),
            ("numpy._core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "scalar"),
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy.core.multiarray", "scalar"),
            ("numpy.ma.core", "_mareconstruct"),
            ("numpy.ma.core", "MaskedArray"),
            ("astropy.units.core", "_recreate_irreducible_unit"),
        }
    )
    CLASS_MODULES = ("astropy.table.", "astropy.units.")

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self.HELPERS:
            return super().find_class(module, name)
        if module.startswith(self.CLASS_MODULES) and not name.startswith("_"):
            found = super().find_class(module, name)
            if isinstance(found, type):
                return found
        raise pickle.UnpicklingError(f"{module}.{name} is not part of a table")


def _add_picture(products: Products, name: str, value: Any, owl_type: str) -> None:
    if _is_picture(value):
        raw, meta = _b64decode(value["b64data"]), _meta(value.get("metadata"))
        name = value.get("name") or name
    else:
        raw, meta = (_b64decode(value) if isinstance(value, str) else None), {}
    kind = _image_kind(raw)
    if raw is None or kind is None:
        _fallback(products, name, value, owl_type)
        return
    _append_picture(products, name, raw, kind, {**meta, **_uri(owl_type)})


def _append_picture(
    products: Products, name: str, raw: bytes, kind: str, meta: dict[str, Any], file_name: str = ""
) -> None:
    products.binary_image_product_list.append(
        {"name": name, "b64data": base64.urlsafe_b64encode(raw).decode(), "img_type": kind, "metadata": meta}
    )
    products.files[file_name or _file_name(name, kind)] = raw


def _add_binary(products: Products, name: str, value: Any, owl_type: str) -> None:
    if _is_binary(value):
        raw, name = _b64decode(value["data"]), value.get("name") or name
    else:
        raw = _b64decode(value) if isinstance(value, str) else None
    if raw is None:
        _fallback(products, name, value, owl_type)
        return
    _append_binary(products, name, raw)


def _append_binary(products: Products, name: str, raw: bytes, file_name: str = "") -> None:
    md5 = hashlib.md5(raw, usedforsecurity=False).hexdigest()  # the protocol's checksum, not security
    products.binary_data_product_list.append({"name": name, "data": base64.urlsafe_b64encode(raw).decode(), "md5": md5})
    products.files[file_name or _file_name(name, "bin")] = raw


def _add_file_output(products: Products, name: str, value: Any, content: str, term: str) -> None:
    """A file the notebook wrote: nb2workflow sent its bytes as ``<name>_content``."""
    raw = _b64decode(content)
    if raw is None:
        _add_text(products, name, value, ODA + term if term else "")
        return
    kind = _image_kind(raw)
    file_name = _file_name(str(value).rsplit("/", 1)[-1] or name, "bin")
    if kind is not None and term not in BINARY_TERMS:
        _append_picture(products, name, raw, kind, {"filename": file_name}, file_name)
    else:
        _append_binary(products, name, raw, file_name)


def _add_text(products: Products, name: str, value: Any, owl_type: str, note: str = "") -> None:
    meta = {**_uri(owl_type), **({"note": note} if note else {})}
    products.text_product_list.append({"name": name, "value": _as_text(value), "meta_data": meta})


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return str(value)
    try:
        return json.dumps(value, default=str, allow_nan=False)
    except ValueError:  # NaN or Infinity inside: the protocol's JSON cannot carry them
        return str(value)


# --- small helpers ------------------------------------------------------------------


def _meta(value: Any) -> dict[str, Any]:
    """oda-api encodes meta data as JSON text; the protocol wants an object."""
    value = _decode_json(value)
    return dict(value) if isinstance(value, dict) else {}


def _uri(owl_type: str) -> dict[str, str]:
    return {"uri": owl_type} if owl_type else {}


def _b64decode(text: str) -> bytes | None:
    """Standard or URL-safe base64 (nb2workflow uses the first, oda-api the second)."""
    compact = re.sub(r"\s+", "", text)
    if not compact or not re.fullmatch(r"[A-Za-z0-9+/_-]*={0,2}", compact):
        return None
    try:
        return base64.urlsafe_b64decode(compact.replace("+", "-").replace("/", "_") + "=" * (-len(compact) % 4))
    except (binascii.Error, ValueError):
        return None


def _image_kind(raw: bytes | None) -> str | None:
    for magic, kind in IMAGE_MAGIC.items():
        if raw and raw.startswith(magic):
            return kind
    return None


def _file_name(name: str, extension: str) -> str:
    """A plain file name (no directories, no surprises) for /download_products."""
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "output"
    return base if "." in base else f"{base}.{extension}"
