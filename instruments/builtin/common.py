"""What every built-in instrument shares: the source and time-range parameters, and product makers."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

from dispatcher_site.roles import Guarded, RolesNeeded
from instruments.base import Adapter
from instruments.parameters import ODA, TIME_FORMATS, Angle, Enum, Float, ListOf, Parameter, String, Time

# The old dispatcher's defaults, so that requests written for it mean the same here.
COMMON_PARAMETERS: tuple[Parameter, ...] = (
    String("src_name", default="1E 1740.7-2942", owl_uri=f"{ODA}AstrophysicalObject"),
    Angle("RA", default=265.97845833, min_value=0, max_value=360, owl_uri=f"{ODA}PointOfInterestRA"),
    Angle("DEC", default=-29.74516667, min_value=-90, max_value=90, owl_uri=f"{ODA}PointOfInterestDEC"),
    Time("T1", default="2017-03-06T13:26:48.000", owl_uri=f"{ODA}StartTime"),
    Time("T2", default="2017-03-06T15:32:27.000", owl_uri=f"{ODA}EndTime"),
    Enum("T_format", allowed_values=TIME_FORMATS, default="isot", owl_uri=f"{ODA}TimeFormat"),
)

BIG_P_W = 50  # above this, the numerical products need the HPC allocation role
IMAGE_SIDE = 100  # the numerical products' image is IMAGE_SIDE x IMAGE_SIDE zeros, as before


def power_parameter(*, max_value: float | None = 800) -> Float:
    """``p`` in W (default 10), the numerical products' one parameter; the empty family caps it at 800 W."""
    return Float("p", units="W", default=10, max_value=max_value)


def input_products(name: str) -> ListOf:
    """The instrument's list of input products (``p_list``, ``scw_list``): optional, none by default."""
    return ListOf(name, item=String("item"), optional=True, owl_uri=f"{ODA}InputProdList")


def numerical_roles(params: Mapping[str, Any]) -> RolesNeeded:
    """Role general always; above BIG_P_W also unige-hpc-full, each with the reason a refusal quotes."""
    if params.get("p", 0) > BIG_P_W:
        reasons = {
            "general": f"general role is needed for p>{BIG_P_W}",
            "unige-hpc-full": f"unige-hpc-full role is needed for p>{BIG_P_W} as well",
        }
        return RolesNeeded(reasons, guarded=Guarded.PRODUCT, reasons=reasons)
    return RolesNeeded({"general"}, guarded=Guarded.PRODUCT)


class BuiltinAdapter(Adapter):
    """A built-in adapter: no backend to reach, the common parameters plus the instrument's own."""

    instrument_parameters: ClassVar[tuple[Parameter, ...]] = ()

    def common_parameters(self) -> tuple[Parameter, ...]:
        return (*COMMON_PARAMETERS, *self.instrument_parameters)

    def check(self) -> str:
        return "ok (built-in)"


def text_product(name: str, value: str, **meta_data: object) -> dict[str, object]:
    """One entry of the protocol's text_product_list."""
    return {"name": name, "value": value, "meta_data": dict(meta_data)}


def image_product(*, instrument: str, params: Mapping[str, Any], asked: tuple[str, ...]) -> dict[str, Any]:
    """The numerical products' answer: one image unit of zeros, as a numpy data product.

    ``asked`` names the product's own parameters, echoed in ``query_parameters``.
    The data travel as text (``binarys`` null), which the client evaluates.
    """
    row = "[" + ", ".join(["0.0"] * IMAGE_SIDE) + "]"
    unit = {
        "name": "IMAGE",
        "hdu_type": "image",
        "header": {},
        "meta_data": {},
        "units_dict": None,
        "binarys": None,
        "data": "[" + ", ".join([row] * IMAGE_SIDE) + "]",
        "dt": "<f8",
    }
    query_parameters = [{"name": name, "value": params.get(name)} for name in asked]
    meta_data = {"product": "mosaic", "instrument": instrument, "src_name": "", "query_parameters": query_parameters}
    return {"name": "user_image", "meta_data": meta_data, "data_unit_list": [unit]}


def echoed(params: Mapping[str, Any]) -> str:
    return json.dumps(dict(params), sort_keys=True)
