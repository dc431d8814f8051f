"""Drawings of products: one per kind, each an HTML ``div`` and a ``script`` to run beside it.

Written once, for every place that shows a product to a person: the frontend's
format (``jobs.interfaces.oda.frontend``) and the job page (``products_drawn``);
the PNG previews of mails, chat and the admin (``jobs.previews``) plot the same
``Plot`` of a numpy product with matplotlib. A drawing is ``{"div": html, "script": html}``:

- light curves and spectra (numpy data products with a table unit): an interactive
  Bokeh plot (``bokeh.embed.components``; the page loads BokehJS itself, the
  frontend 3.1.1, the version pinned in requirements.txt), time or energy against
  rate, flux or counts, with error bars when the table has them; other tables of
  numbers and 2-d arrays are plotted the same way (a line, an image);
- pictures (``binary_image_product_list``): an inline PNG/JPEG/GIF ``<img>``;
- astropy tables (ECSV): a sortable HTML table (its first ``TABLE_ROWS`` rows) and its row count;
- text: preformatted, escaped;
- anything else, or data that cannot be read: "No preview available".

Numpy units travel as text (``data``, JSON rows) or as ``binarys`` (base64 of a
pickled array, what oda-api sends by default). A pickle from a backend is read
with an unpickler that only rebuilds numpy arrays: nothing else it names is
imported or called.
"""

from __future__ import annotations

import ast
import base64
import binascii
import io
import json
import logging
import pickle
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.utils.html import escape

log = logging.getLogger(__name__)

Drawing = dict[str, str]
NO_PREVIEW: Drawing = {"div": "<br>No preview available", "script": ""}
TABLE_ROWS = 200
PLOT_SIZE = {"width": 600, "height": 400}

_TIME_COLUMNS = ("TIME", "MJD", "TSTART", "T", "BARYTIME")
_ENERGY_COLUMNS = ("ENERGY", "E_MIN", "EMIN", "E_MEAN", "CHANNEL", "E")
_VALUE_COLUMNS = ("RATE", "FLUX", "COUNTS", "COUNT_RATE", "RATE_ERR_FREE", "MAG", "VALUE")
_ERROR_COLUMNS = ("ERROR", "RATE_ERR", "FLUX_ERR", "ERR", "ERRORS", "STAT_ERR", "COUNTS_ERR")
_PICTURE_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "jpg": "image/jpeg", "gif": "image/gif"}


def no_preview() -> Drawing:
    return dict(NO_PREVIEW)


# --- the product kinds -----------------------------------------------------------------


def numpy_product_drawing(product: Mapping[str, Any]) -> Drawing:
    """A numpy data product (a light curve, a spectrum, an image...) as a Bokeh plot."""
    plot = numpy_product_plot(product)
    if plot is None:
        return no_preview()
    if plot.image is not None:
        return _image_plot(plot.image, title=plot.title)
    return _line_plot(plot)


@dataclass(frozen=True, eq=False)
class Plot:
    """What a numpy product shows, whoever draws it: a series (x, y, errors) or a 2-d image."""

    title: str
    x: np.ndarray | None = None
    y: np.ndarray | None = None
    errors: np.ndarray | None = None
    x_label: str = ""
    y_label: str = ""
    log_axes: bool = False
    image: np.ndarray | None = None


def numpy_product_plot(product: Mapping[str, Any]) -> Plot | None:
    """The plot of a numpy data product's first readable unit; None when there is nothing to plot."""
    title = str(product.get("name") or "")
    kind = _kind_of(product)
    for unit in product.get("data_unit_list") or []:
        data = unit_data(unit)
        if data is None or data.size == 0:
            continue
        try:
            if data.dtype.names:
                return _table_series(data, title=title, kind=kind, units=unit.get("units_dict") or {})
            if data.ndim == 2:
                return Plot(title=title, image=np.nan_to_num(data.astype(float), nan=0.0, posinf=0.0, neginf=0.0))
            if data.ndim == 1 and data.dtype.kind in "biuf":
                return _finite(Plot(title=title, x=np.arange(len(data)), y=data.astype(float), x_label="index"))
        except (ValueError, TypeError, KeyError) as error:
            log.info("product %s could not be drawn: %s", title, error)
            return None
    return None


def picture_drawing(picture: Mapping[str, Any]) -> Drawing:
    """A picture product (base64, URL-safe or not) as an inline image."""
    raw = picture_bytes(picture)
    if raw is None:
        return no_preview()
    mime = _PICTURE_TYPES[str(picture.get("img_type") or "png").lower()]
    encoded = base64.b64encode(raw).decode()
    name = escape(str(picture.get("name") or "picture"))
    return {"div": f'<img src="data:{mime};base64,{encoded}" alt="{name}" style="max-width: 100%;">', "script": ""}


def picture_bytes(picture: Mapping[str, Any]) -> bytes | None:
    """A picture product's image (PNG, JPEG or GIF), or None when it is not one of those or not base64."""
    if str(picture.get("img_type") or "png").lower() not in _PICTURE_TYPES:
        return None
    return _b64decode(str(picture.get("b64data") or ""))


def table_drawing(table: Mapping[str, Any]) -> Drawing:
    """An astropy table (ECSV text) as an HTML table of its first TABLE_ROWS rows."""
    try:
        from astropy.table import Table

        parsed = Table.read(str(table.get("ascii") or ""), format="ascii.ecsv")
    except Exception as error:  # an unreadable table is a product we cannot preview, not a fault of ours
        log.info("table %s could not be read: %s", table.get("name"), error)
        return no_preview()
    header = "".join(f"<th>{escape(_column_title(parsed, name))}</th>" for name in parsed.colnames)
    rows = "".join(
        "<tr>" + "".join(f"<td>{escape(str(value))}</td>" for value in row) + "</tr>" for row in parsed[:TABLE_ROWS]
    )
    count = len(parsed)
    shown = f", the first {TABLE_ROWS} shown; all of them in the downloaded table" if count > TABLE_ROWS else ""
    note = f'<p class="table-rows" data-rows="{count}">{count} row{"" if count == 1 else "s"}{shown}.</p>'
    table_html = f"<thead><tr>{header}</tr></thead><tbody>{rows}</tbody>"
    return {"div": f'{note}<table class="table table-striped sortable">{table_html}</table>', "script": ""}


def text_drawing(text: Mapping[str, Any]) -> Drawing:
    """A text product, preformatted."""
    value = text.get("value")
    shown = value if isinstance(value, str) else json.dumps(value, default=str)
    return {"div": f"<pre>{escape(shown)}</pre>", "script": ""}


# --- a job's products ------------------------------------------------------------------

# Each list, and how its entries are drawn, in the order a product's drawing is chosen.
DRAWN_FROM: tuple[tuple[str, Callable[[Mapping[str, Any]], Drawing]], ...] = (
    ("numpy_data_product_list", numpy_product_drawing),
    ("binary_image_product_list", picture_drawing),
    ("astropy_table_product_ascii_list", table_drawing),
    ("text_product_list", text_drawing),
    ("binary_data_product_list", lambda entry: no_preview()),
)


def products_to_show(products: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any], Callable]]:
    """(name, entry, drawer) per product, in the lists' order, each name once.

    A product is what the lists name: the same name in several lists (a light curve
    given as numpy data and as an ECSV table) is one product, drawn from its first list.
    """
    shown: dict[str, tuple[str, Mapping[str, Any], Callable]] = {}
    for list_name, draw in DRAWN_FROM:
        for index, entry in enumerate(products.get(list_name) or []):
            if not isinstance(entry, Mapping):
                continue
            name = str(entry.get("name") or f"{list_name.removesuffix('_list')}_{index}")
            shown.setdefault(name, (name, entry, draw))
    return list(shown.values())


def products_drawn(products: Mapping[str, Any]) -> list[dict[str, str]]:
    """A job's products (the protocol's lists), each drawn once: ``{"name", "div", "script"}``."""
    return [{"name": name, **draw(entry)} for name, entry, draw in products_to_show(products)]


# --- reading numpy units ---------------------------------------------------------------


def unit_data(unit: Mapping[str, Any]) -> np.ndarray | None:
    """The array of one data unit, or None when it cannot be read safely."""
    try:
        if unit.get("data") is not None:
            return _from_text(unit["data"], unit.get("dt"))
        if unit.get("binarys"):
            raw = _b64decode(str(unit["binarys"]))
            return _NumpyOnlyUnpickler(io.BytesIO(raw), encoding="bytes").load() if raw else None
    except (ValueError, TypeError, SyntaxError, pickle.UnpicklingError, EOFError, MemoryError) as error:
        log.info("data unit %s could not be read: %s", unit.get("name"), error)
    return None


def _from_text(text: Any, dt: Any) -> np.ndarray:
    rows = text
    if isinstance(text, str):
        try:
            rows = json.loads(text)
        except ValueError:
            rows = ast.literal_eval(text)  # Python literals only (oda-api's encoder wrote them)
    dtype = _dtype(dt)
    if dtype is not None and dtype.names:
        return np.array([tuple(row) for row in rows], dtype=dtype)
    return np.asarray(rows, dtype=dtype)


def _dtype(dt: Any) -> np.dtype | None:
    if not dt:
        return None
    if isinstance(dt, str):
        try:
            return np.dtype(dt)
        except TypeError:
            dt = ast.literal_eval(dt)
    if isinstance(dt, list):
        return np.dtype([tuple(field) for field in dt])
    return np.dtype(dt)


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Rebuilds numpy arrays and nothing else: a backend's pickle never runs code of its choice."""

    ALLOWED = frozenset(
        {
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "_reconstruct"),
            ("numpy.core.multiarray", "scalar"),
            ("numpy._core.multiarray", "scalar"),
            ("numpy", "ndarray"),
            ("numpy", "dtype"),
            ("numpy.core.numeric", "_frombuffer"),
            ("numpy._core.numeric", "_frombuffer"),
            ("numpy.rec", "recarray"),
            ("numpy.core.records", "recarray"),
            ("numpy._core.records", "recarray"),
            ("numpy", "record"),
            ("numpy.core.records", "record"),
            ("numpy._core.records", "record"),
            ("codecs", "encode"),
        }
    )

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} is not a numpy array part")
        return super().find_class(module, name)


# --- plots -----------------------------------------------------------------------------


def _kind_of(product: Mapping[str, Any]) -> str:
    """The kind of a numpy product: lightcurve, spectrum or "" (by its ontology term or name)."""
    meta = product.get("meta_data") if isinstance(product.get("meta_data"), Mapping) else {}
    words = f"{meta.get('uri', '')} {meta.get('product', '')} {product.get('name', '')}".lower()
    if "lightcurve" in words.replace("_", "").replace(" ", "") or "light_curve" in words:
        return "lightcurve"
    if "spectrum" in words or "spectra" in words:
        return "spectrum"
    return ""


def _pick(names: Sequence[str], wanted: Sequence[str], *, besides: Sequence[str] = ()) -> str | None:
    upper = {name.upper(): name for name in names if name not in besides}
    return next((upper[word] for word in wanted if word in upper), None)


def _table_series(data: np.ndarray, *, title: str, kind: str, units: Mapping[str, Any]) -> Plot | None:
    names = [name for name in data.dtype.names if data.dtype[name].kind in "biuf" and data.dtype[name].ndim == 0]
    if not names:
        return None
    x_wanted = _ENERGY_COLUMNS if kind == "spectrum" else _TIME_COLUMNS
    x = _pick(names, x_wanted) or _pick(names, _TIME_COLUMNS + _ENERGY_COLUMNS)
    y = _pick(names, _VALUE_COLUMNS, besides=[x] if x else [])
    if x is None and len(names) == 1:
        return _finite(Plot(title=title, x=np.arange(len(data)), y=data[names[0]].astype(float), x_label="index"))
    x = x or names[0]
    y = y or next(name for name in [*names[1:], names[0]] if name != x or len(names) == 1)
    error = _pick(names, _ERROR_COLUMNS, besides=[x, y])
    return _finite(
        Plot(
            title=title,
            x=data[x].astype(float),
            y=data[y].astype(float),
            errors=data[error].astype(float) if error else None,
            x_label=_label(x, units),
            y_label=_label(y, units),
            log_axes=kind == "spectrum" and bool((data[x] > 0).all() and (data[y] > 0).all()),
        )
    )


def _finite(plot: Plot) -> Plot:
    """The plot without its points that are not finite numbers (NaN, inf: no plotting library draws them)."""
    finite = np.isfinite(plot.x) & np.isfinite(plot.y)
    if plot.errors is not None:
        finite &= np.isfinite(plot.errors)
    errors = plot.errors[finite] if plot.errors is not None else None
    return Plot(title=plot.title, x=plot.x[finite], y=plot.y[finite], errors=errors, x_label=plot.x_label,
                y_label=plot.y_label, log_axes=plot.log_axes)  # fmt: skip


def _label(name: str, units: Mapping[str, Any]) -> str:
    unit = units.get(name) if isinstance(units, Mapping) else None
    return f"{name} ({unit})" if unit else name


def _line_plot(series: Plot) -> Drawing:
    from bokeh.models import ColumnDataSource, Whisker
    from bokeh.plotting import figure

    axes = {"x_axis_type": "log", "y_axis_type": "log"} if series.log_axes else {}
    plot = figure(title=series.title, x_axis_label=series.x_label, y_axis_label=series.y_label,
                  tools="pan,box_zoom,wheel_zoom,reset,save", **PLOT_SIZE, **axes)  # fmt: skip
    columns: dict[str, Any] = {"x": series.x, "y": series.y}
    if series.errors is not None:
        columns.update(lower=series.y - series.errors, upper=series.y + series.errors)
    source = ColumnDataSource(columns)
    plot.line("x", "y", source=source)
    plot.scatter("x", "y", source=source, size=4)
    if series.errors is not None:
        plot.add_layout(Whisker(source=source, base="x", lower="lower", upper="upper"))
    return _components(plot)


def _image_plot(data: np.ndarray, *, title: str) -> Drawing:
    from bokeh.plotting import figure

    height, width = data.shape
    plot = figure(title=title, x_range=(0, width), y_range=(0, height), match_aspect=True, **PLOT_SIZE)
    plot.image(image=[data], x=0, y=0, dw=width, dh=height, palette="Viridis256")
    return _components(plot)


def _components(plot: Any) -> Drawing:
    from bokeh.embed import components

    script, div = components(plot)
    return {"div": div, "script": script}


# --- helpers ---------------------------------------------------------------------------


def _column_title(table: Any, name: str) -> str:
    unit = table[name].unit
    return f"{name} ({unit})" if unit else name


def _b64decode(text: str) -> bytes | None:
    """Standard or URL-safe base64."""
    compact = "".join(text.split())
    if not compact:
        return None
    try:
        return base64.urlsafe_b64decode(compact.replace("+", "-").replace("/", "_") + "=" * (-len(compact) % 4))
    except (binascii.Error, ValueError):
        return None
