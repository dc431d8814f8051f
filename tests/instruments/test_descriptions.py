"""A handle describes what its instrument offers as typed, frozen values."""

import dataclasses

import pytest

from instruments.base import Adapter, ProductSpec
from instruments.descriptions import ParameterDescription, Restrictions
from instruments.parameters import ODA, Float, Integer, String
from instruments.registry import InstrumentHandle, instrument_get

SOURCE = String("src_name", default="Crab")
SEED = Integer("seed", default=3, min_value=0)
RA = Float("RA", default=83.6)
OWN_RA = Float("RA", default=1.5, max_value=10)
GAIN = Float("gain", default=2, optional=True)


class FakeAdapter(Adapter):
    kind = "fake"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.asked = 0

    def common_parameters(self):
        return (SEED, SOURCE, RA)

    def describe(self):
        self.asked += 1
        return {
            "image": ProductSpec(name="image", parameters=(OWN_RA, GAIN), roles=frozenset({"imaging"})),
            "plain": ProductSpec(name="plain", description="nothing to set", query_types=frozenset({"Dummy"})),
        }


def fake_handle(**settings) -> InstrumentHandle:
    return InstrumentHandle(
        name="fake",
        kind="fake",
        roles=frozenset({"staff"}),
        settings=settings,
        timeout_s=1.0,
        adapter=FakeAdapter(name="fake", settings=settings),
        product_roles={"plain": frozenset({"row-role"})},
        description="a fake",
    )


def names(parameters) -> list[str]:
    return [p.name for p in parameters]


def test_the_instrument_is_described_with_its_common_parameters_split():
    described = fake_handle().describe()
    assert (described.name, described.kind, described.description) == ("fake", "fake", "a fake")
    assert described.roles == {"staff"}
    assert names(described.common_parameters) == ["seed", "src_name", "RA"]
    assert names(described.source_parameters) == ["src_name", "RA"]
    assert names(described.instrument_parameters) == ["seed"]
    assert [product.name for product in described.products] == ["image", "plain"]


def test_a_product_lists_its_own_and_every_accepted_parameter():
    described = fake_handle().describe()
    image = described.product("image")
    assert names(image.own_parameters) == ["RA", "gain"]
    # The product's RA replaces the common one, and comes with its own parameters.
    assert names(image.parameters) == ["seed", "src_name", "RA", "gain"]
    assert image.parameters[2] == OWN_RA.describe()
    assert image.parameters[2].restrictions == Restrictions(max_value=10)
    assert image.roles == {"staff", "imaging"}
    assert image.query_types == {"Real", "Dummy"}
    plain = described.product("plain")
    assert (plain.description, plain.query_types, plain.roles) == ("nothing to set", {"Dummy"}, {"staff", "row-role"})
    assert names(plain.own_parameters) == []
    assert described.product("no-such") is None


def test_parameters_are_described_with_their_normalized_defaults():
    gain = fake_handle().describe().product("image").own_parameters[1]
    assert gain == ParameterDescription(
        name="gain",
        type="float",
        units=None,
        default=2.0,
        restrictions=Restrictions(is_optional=True),
        owl_uri=f"{ODA}Float",
    )


def test_descriptions_are_frozen_and_kept_with_the_catalogue():
    handle = fake_handle()
    described = handle.describe()
    assert handle.describe() is described
    handle.validate("image", {})
    assert handle.adapter.asked == 1  # one question to the adapter for all of these
    with pytest.raises(dataclasses.FrozenInstanceError):
        described.name = "other"
    with pytest.raises(dataclasses.FrozenInstanceError):
        described.products[0].parameters[0].restrictions.is_optional = True


def test_restrictions_map_only_those_that_apply_in_protocol_order():
    restrictions = Restrictions(is_optional=True, item_type="integer", allowed_values=(1, 2), min_value=0)
    assert list(restrictions.as_mapping().items()) == [
        ("is_optional", True),
        ("min_value", 0),  # a zero bound is a bound
        ("allowed_values", [1, 2]),
        ("item_type", "integer"),
    ]
    assert Restrictions().as_mapping() == {"is_optional": False}
    assert Restrictions(schema={"type": "object"}, format_parameter="T_format").as_mapping() == {
        "is_optional": False,
        "format_parameter": "T_format",
        "schema": {"type": "object"},
    }


@pytest.mark.django_db
def test_the_builtin_empty_instrument_is_described():
    described = instrument_get("empty-development").describe()
    assert (described.name, described.kind) == ("empty-development", "empty-development")
    assert described.roles == {"oda workflow developer"}
    assert names(described.source_parameters) == ["src_name", "RA", "DEC", "T1", "T2", "T_format"]
    assert names(described.instrument_parameters) == ["p_list"]
    numerical = described.product("numerical")
    assert numerical.roles == {"oda workflow developer", "general"}
    (p,) = numerical.own_parameters
    assert (p.name, p.units, p.default, p.restrictions) == ("p", "W", 10.0, Restrictions(max_value=800))
    assert described.product("dummy").query_types == {"Dummy"}
