"""What every built-in instrument shares: the source and time-range parameters."""

from __future__ import annotations

from instruments.base import Adapter
from instruments.parameters import ODA, TIME_FORMATS, Angle, Enum, Parameter, String, Time

# The old dispatcher's defaults, so that requests written for it mean the same here.
COMMON_PARAMETERS: tuple[Parameter, ...] = (
    String("src_name", default="1E 1740.7-2942", owl_uri=f"{ODA}AstrophysicalObject"),
    Angle("RA", default=265.97845833, min_value=0, max_value=360, owl_uri=f"{ODA}PointOfInterestRA"),
    Angle("DEC", default=-29.74516667, min_value=-90, max_value=90, owl_uri=f"{ODA}PointOfInterestDEC"),
    Time("T1", default="2017-03-06T13:26:48.000", owl_uri=f"{ODA}StartTime"),
    Time("T2", default="2017-03-06T15:32:27.000", owl_uri=f"{ODA}EndTime"),
    Enum("T_format", allowed_values=TIME_FORMATS, default="isot", owl_uri=f"{ODA}TimeFormat"),
)


class BuiltinAdapter(Adapter):
    """A built-in adapter: no backend to reach, the common parameters."""

    def common_parameters(self) -> tuple[Parameter, ...]:
        return COMMON_PARAMETERS

    def check(self) -> str:
        return "ok (built-in)"


def text_product(name: str, value: str, **meta_data: object) -> dict[str, object]:
    """One entry of the protocol's text_product_list."""
    return {"name": name, "value": value, "meta_data": dict(meta_data)}
