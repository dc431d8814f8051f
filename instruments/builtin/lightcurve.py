"""``demo-lightcurve``: a real (simulated) light curve, computed in the worker.

Photon counts of the requested source are drawn as Poisson events in bins of
``time_bin`` seconds between T1 and T2. The source itself (mean rate, variability
amplitude, period and phase) is derived from its name and position, so that one
source looks the same whatever time range is asked; the noise is seeded from all
the parameters, so that one request always gives the same light curve.

The result is given as a numpy data product (``data`` as text, no pickle), as an
ECSV table, and as the file ``lightcurve.ecsv``.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from instruments.base import AdapterError, Products, ProductSpec, RunOutcome, RunRequest
from instruments.builtin.common import BuiltinAdapter
from instruments.parameters import Float

MAX_BINS = 100_000
BACKGROUND_RATE = 1.0  # counts/s
SECONDS_PER_DAY = 86400.0
COLUMN_UNITS = {"TIME": "d", "TIMEDEL": "s", "COUNTS": "ct", "RATE": "ct / s", "ERROR": "ct / s"}
DTYPE = np.dtype([("TIME", "<f8"), ("TIMEDEL", "<f8"), ("COUNTS", "<i8"), ("RATE", "<f8"), ("ERROR", "<f8")])

PRODUCTS = {
    "lightcurve": ProductSpec(
        name="lightcurve",
        parameters=(Float("time_bin", units="s", default=100, min_value=1, max_value=86400),),
        description="Binned Poisson counts of the source between T1 and T2.",
    )
}


@dataclass(frozen=True)
class Source:
    """What the simulated sky holds at a position: a steady part and a sinusoid."""

    mean_rate: float  # counts/s
    amplitude: float  # fraction of the mean rate
    period_s: float
    phase: float

    @classmethod
    def at(cls, src_name: str, ra: float, dec: float) -> Source:
        rng = np.random.default_rng(_seed("source", src_name, ra, dec))
        return cls(
            mean_rate=float(rng.uniform(2, 20)),
            amplitude=float(rng.uniform(0.2, 0.8)),
            period_s=float(rng.uniform(600, 20000)),
            phase=float(rng.uniform(0, 2 * math.pi)),
        )

    def rate(self, mjd: np.ndarray) -> np.ndarray:
        seconds = mjd * SECONDS_PER_DAY
        return self.mean_rate * (1 + self.amplitude * np.sin(2 * math.pi * seconds / self.period_s + self.phase))


def _seed(*values: Any) -> int:
    text = json.dumps(values, sort_keys=True, default=str)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def light_curve(params: Mapping[str, Any]) -> np.ndarray:
    """The binned light curve of a request's normalized parameters, as a structured array."""
    from astropy.time import Time

    start, stop = Time(params["T1"], format="isot", scale="utc"), Time(params["T2"], format="isot", scale="utc")
    span_s = float((stop - start).sec)
    time_bin = float(params["time_bin"])
    if span_s <= 0:
        raise AdapterError(f"T2 ({params['T2']}) must be later than T1 ({params['T1']}).")
    n_bins = math.ceil(span_s / time_bin)
    if n_bins > MAX_BINS:
        raise AdapterError(f"{n_bins} bins asked; at most {MAX_BINS}: widen time_bin or shorten T1..T2.")
    edges_s = np.minimum(np.arange(n_bins + 1) * time_bin, span_s)
    widths = np.diff(edges_s)  # the last bin may be shorter
    mid_mjd = start.mjd + (edges_s[:-1] + widths / 2) / SECONDS_PER_DAY
    source = Source.at(params["src_name"], params["RA"], params["DEC"])
    expected = (source.rate(mid_mjd) + BACKGROUND_RATE) * widths
    counts = np.random.default_rng(_seed("counts", dict(params))).poisson(expected)
    table = np.zeros(n_bins, dtype=DTYPE)
    table["TIME"], table["TIMEDEL"], table["COUNTS"] = mid_mjd, widths, counts
    table["RATE"] = counts / widths
    # Poisson errors; a bin without counts still has the error of one count.
    table["ERROR"] = np.sqrt(np.maximum(counts, 1)) / widths
    return table


def numpy_product(table: np.ndarray, meta_data: dict[str, Any], header: dict[str, Any]) -> dict[str, Any]:
    """One entry of numpy_data_product_list: the light curve as a binary table unit."""
    unit = {
        "name": "LIGHTCURVE",
        "hdu_type": "bintable",
        "header": header,
        "meta_data": {},
        "units_dict": dict(COLUMN_UNITS),
        "binarys": None,
        # JSON rows: the client evaluates this text, then builds the array with `dt`.
        "data": json.dumps(table.tolist()),
        "dt": str(table.dtype),
    }
    return {"name": "lightcurve", "meta_data": meta_data, "data_unit_list": [unit]}


def ecsv_text(table: np.ndarray, meta_data: dict[str, Any]) -> str:
    from astropy.table import Table

    astropy_table = Table(table, meta=dict(meta_data))
    for column, unit in COLUMN_UNITS.items():
        astropy_table[column].unit = unit
    with io.StringIO() as buffer:
        astropy_table.write(buffer, format="ascii.ecsv")
        return buffer.getvalue()


class DemoLightcurveAdapter(BuiltinAdapter):
    kind = "demo-lightcurve"

    def describe(self) -> dict[str, ProductSpec]:
        return PRODUCTS

    def run(self, request: RunRequest) -> RunOutcome:
        params = request.params
        table = light_curve(params)
        meta_data = {
            "product": "lightcurve",
            "instrument": self.name,
            "src_name": params["src_name"],
            "RA": params["RA"],
            "DEC": params["DEC"],
            "T1": params["T1"],
            "T2": params["T2"],
            "time_bin_s": params["time_bin"],
        }
        header = {"EXTNAME": "LIGHTCURVE", "TELESCOP": "DEMO", "OBJECT": params["src_name"], "TIMEUNIT": "d"}
        # The light curve once, as oda-api's NumpyDataProduct; the same table as an ECSV file to
        # download. Not also as an astropy table product: `oda-api get` cannot print one.
        products = Products(
            numpy_data_product_list=[numpy_product(table, meta_data, header)],
            files={"lightcurve.ecsv": ecsv_text(table, meta_data).encode()},
        )
        total = int(table["COUNTS"].sum())
        products.comment = f"{len(table)} bins, {total} counts"
        return RunOutcome(state="done", products=products, message=products.comment)
