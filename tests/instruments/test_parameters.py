import json

import pytest

from instruments.descriptions import ParameterDescription, Restrictions
from instruments.parameters import (
    NONE_MARKER,
    ODA,
    TIME_FORMATS,
    Angle,
    Boolean,
    Energy,
    Enum,
    Float,
    Integer,
    ListOf,
    ParameterError,
    String,
    Structured,
    Time,
    normalize_parameters,
)


def refusal(parameter, raw, context=None) -> str:
    with pytest.raises(ParameterError) as caught:
        parameter.parse(raw, context)
    assert caught.value.name == parameter.name
    return str(caught.value)


# --- numbers --------------------------------------------------------------------


def test_the_issue_example_is_refused_with_the_exact_text():
    p = Float("p", units="W", default=10, max_value=800)
    assert refusal(p, "900") == "Parameter p wrong value 900: must be at most 800"


@pytest.mark.parametrize(("raw", "expected"), [("10", 10.0), (" 1e2 ", 100.0), (799.5, 799.5), ("-3", -3.0)])
def test_float_accepts_numbers(raw, expected):
    assert Float("p", max_value=800).parse(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [("ten", "must be a number"), ("nan", "must be a finite number"), ("inf", "must be a finite number"),
     (True, "must be a number"), ("-5", "must be at least -1")],
)  # fmt: skip
def test_float_refuses_bad_input(raw, reason):
    assert refusal(Float("p", min_value=-1), raw).endswith(reason)


def test_float_fills_and_normalizes_its_default():
    p = Float("p", default=10)
    assert p.parse(None) == 10.0 and isinstance(p.parse(None), float)
    assert p.parse(NONE_MARKER) == p.parse("10.0") == 10.0


def test_a_required_parameter_without_value_is_refused():
    assert refusal(Float("p"), NONE_MARKER).endswith("a value is required")
    assert Float("p", optional=True).parse(None) is None


@pytest.mark.parametrize(("raw", "expected"), [("3", 3), ("3.0", 3), (4, 4), (" -2 ", -2)])
def test_integer_accepts_whole_numbers(raw, expected):
    value = Integer("n", min_value=-5, max_value=5).parse(raw)
    assert value == expected and isinstance(value, int)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [("3.5", "must be an integer"), ("x", "must be a number"), ("6", "must be at most 5"), (False, "must be a number")],
)
def test_integer_refuses_bad_input(raw, reason):
    assert refusal(Integer("n", max_value=5), raw).endswith(reason)


# --- words ------------------------------------------------------------------------


def test_string_strips_and_checks_allowed_values():
    s = String("src_name", default="Crab")
    assert s.parse(" Mrk 421 ") == "Mrk 421"
    assert s.parse(None) == "Crab"
    colour = String("colour", allowed_values=["red", "blue"])
    assert colour.parse("red") == "red"
    assert refusal(colour, "green") == "Parameter colour wrong value green: must be one of red, blue"
    assert refusal(String("x", max_length=3), "abcd").endswith("must be at most 3 characters long")
    assert refusal(String("x"), ["a"]).endswith("must be a text")
    assert refusal(String("x"), "Crab\x00").endswith("must not contain NUL characters")


def test_enum_accepts_only_its_values():
    e = Enum("mode", allowed_values=["fast", "slow"], default="fast")
    assert e.parse("slow") == "slow"
    assert e.parse(None) == "fast"
    assert refusal(e, "Fast").endswith("must be one of fast, slow")
    assert e.restrictions() == Restrictions(is_optional=False, allowed_values=("fast", "slow"))
    with pytest.raises(ValueError, match="needs allowed_values"):
        Enum("broken", allowed_values=[])


@pytest.mark.parametrize(("raw", "expected"), [("true", True), ("No", False), ("1", True), (0, False), (True, True)])
def test_boolean_accepts_the_usual_words(raw, expected):
    assert Boolean("flag").parse(raw) is expected


@pytest.mark.parametrize("raw", ["maybe", "2", 7])
def test_boolean_refuses_other_words(raw):
    assert refusal(Boolean("flag"), raw).endswith("must be true or false")


# --- time -------------------------------------------------------------------------

T_FORMAT = Enum("T_format", allowed_values=TIME_FORMATS, default="isot")
T1 = Time("T1", default="2017-03-06T13:26:48")

SAME_INSTANT = [
    ("isot", "2017-03-06T13:26:48.000"),
    ("isot", "2017-03-06T13:26:48Z"),
    ("iso", "2017-03-06 13:26:48"),
    ("mjd", "57818.56027777778"),
    ("mjd", 57818.56027777778),
    ("jd", "2457819.06027777778"),
    ("unix", "1488806808"),
    ("fits", "2017-03-06T13:26:48.000"),
]


@pytest.mark.parametrize(("time_format", "raw"), SAME_INSTANT)
def test_time_in_any_format_is_normalized_to_one_iso_value(time_format, raw):
    values, unused = normalize_parameters([T1, T_FORMAT], {"T1": raw, "T_format": time_format})
    assert unused == []
    # Same instant, same normalized parameters: the job hash cannot tell them apart.
    assert values == {"T1": "2017-03-06T13:26:48.000", "T_format": "isot"}


def test_time_fast_path_and_astropy_agree():
    # Milliseconds beyond the fast path's reach go through astropy; both round the same way.
    assert T1.parse("2017-03-06T13:26:48.123") == "2017-03-06T13:26:48.123"
    assert T1.parse("2017-03-06T13:26:48.1234") == "2017-03-06T13:26:48.123"
    assert T1.parse("2016-12-31T23:59:60.5") == "2016-12-31T23:59:60.500"  # a leap second
    assert T1.parse(None) == "2017-03-06T13:26:48.000"


@pytest.mark.parametrize(
    ("raw", "time_format", "reason"),
    [
        ("yesterday", "isot", "is not a time in format isot"),
        ("2017-13-45T00:00:00", "isot", "is not a time in format isot"),
        ("2017-03-06T13:26:48", "mjd", "must be a number"),
        ("57818", "lunar", "unknown time format lunar"),
    ],
)
def test_time_refuses_bad_input(raw, time_format, reason):
    assert reason in refusal(T1, raw, {"T_format": time_format})


def test_time_format_parameter_refuses_unknown_formats():
    with pytest.raises(ParameterError, match="must be one of isot, iso, mjd"):
        normalize_parameters([T1, T_FORMAT], {"T1": "1", "T_format": "lunar"})


# --- angle and energy ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "degrees"),
    [("83.63", 83.63), (83.63, 83.63), ("30 arcmin", 0.5), ("05h34m31.94s", 83.6330833333), ("1 hourangle", 15.0)],
)
def test_angle_is_normalized_to_degrees(raw, degrees):
    assert Angle("RA", min_value=0, max_value=360).parse(raw) == pytest.approx(degrees, abs=1e-9)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [("400", "must be at most 360"), ("north", "must be a number"), ("3 furlongs", "cannot be converted to deg")],
)
def test_angle_refuses_bad_input(raw, reason):
    assert reason in refusal(Angle("RA", min_value=0, max_value=360), raw)


def test_energy_is_converted_to_kev_canonically():
    e = Energy("E1", default=20, max_value=1e6)
    assert e.parse("1 MeV") == e.parse("1000 keV") == e.parse("1000") == e.parse("1e6eV") == 1000.0
    assert e.parse("0.001 GeV") == 1000.0
    assert e.parse(None) == 20.0
    assert Energy("E1", units="MeV").parse("2") == 2000.0
    assert Energy("E1").parse("1.602176634e-16 J") == pytest.approx(1.0)


def test_energy_reads_units_from_a_sibling_parameter():
    e = Energy("E1", units_parameter="E_units")
    units = String("E_units", default="keV")
    values, _ = normalize_parameters([e, units], {"E1": "3", "E_units": "MeV"})
    assert values == {"E1": 3000.0, "E_units": "keV"}


@pytest.mark.parametrize(
    ("raw", "reason"),
    [("2 GeV", "must be at most 1000"), ("5 parsec", "cannot be converted to keV"), ("lots", "must be a number")],
)
def test_energy_refuses_bad_input(raw, reason):
    assert reason in refusal(Energy("E1", max_value=1000), raw)


# --- containers ---------------------------------------------------------------------


def test_list_accepts_json_as_oda_api_sends_it_and_checks_every_item():
    energies = ListOf("energies", item=Energy("e", max_value=100), max_length=3)
    assert energies.parse(json.dumps([1, "2 keV", 3.5])) == [1.0, 2.0, 3.5]
    assert energies.parse([10]) == [10.0]
    assert energies.parse("1, 2") == [1.0, 2.0]
    assert refusal(energies, "[1, 200]").endswith("item 1: must be at most 100")
    assert refusal(energies, "[1, 2, 3, 4]").endswith("must have at most 3 items")
    assert refusal(energies, '[1, "x"').endswith("is not a JSON list")
    assert "item 0: must be a number" in refusal(energies, '{"a": 1}')


def test_list_of_times_reads_the_format_sibling():
    times = ListOf("times", item=Time("t"))
    values, _ = normalize_parameters([times, T_FORMAT], {"times": "[57818.5]", "T_format": "mjd"})
    assert values["times"] == ["2017-03-06T12:00:00.000"]


SCHEMA = {
    "type": "object",
    "properties": {"band": {"type": "string"}, "emin": {"type": "number", "minimum": 0}},
    "required": ["band"],
    "additionalProperties": False,
}


def test_structured_accepts_json_text_or_values_matching_the_schema():
    s = Structured("cfg", schema=SCHEMA)
    assert s.parse('{"band": "soft", "emin": 2}') == {"band": "soft", "emin": 2}
    assert s.parse({"band": "hard"}) == {"band": "hard"}


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ('{"emin": 2}', "'band' is a required property"),
        ('{"band": "soft", "emin": -1}', "-1 is less than the minimum of 0 (at emin)"),
        ('{"band": 3}', "3 is not of type 'string' (at band)"),
        ("{not json", "is not valid JSON"),
    ],
)
def test_structured_refuses_what_the_schema_refuses(raw, reason):
    assert reason in refusal(Structured("cfg", schema=SCHEMA), raw)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ('{"band": "so\\u0000ft"}', "band contains a NUL character"),
        ('{"band": "\\ud800"}', "band contains a lone surrogate"),
        ('{"band": "soft", "emin": NaN}', "emin is not a finite number"),
        ('{"band": "soft", "x": ' + "[" * 5000 + "]" * 5000 + "}", "is nested too deeply"),
        ('{"band": "soft", "x": ' + "[" * 100 + "]" * 100 + "}", "nested deeper than 64 levels"),
        ({"band": "so\x00ft"}, "band contains a NUL character"),
    ],
)
def test_json_values_no_database_keeps_are_refused(raw, reason):
    # PostgreSQL's jsonb refuses \u0000; no database encodes a lone surrogate; deep nesting breaks Python.
    for parameter in (Structured("cfg", schema={}), ListOf("l", item=Structured("s", schema={}))):
        shown = refusal(
            parameter, raw if parameter.type_name == "structured" or not isinstance(raw, str) else f"[{raw}]"
        )
        assert reason in shown
        assert len(shown) < 300


def test_structured_refuses_a_broken_schema_at_definition():
    from jsonschema.exceptions import SchemaError

    with pytest.raises(SchemaError):
        Structured("cfg", schema={"type": "no-such-type"})


# --- description and whole requests ----------------------------------------------------


def test_parameters_describe_themselves_typed():
    assert Float("p", units="W", default="10", max_value=800, description="power").describe() == ParameterDescription(
        name="p",
        type="float",
        units="W",
        default=10.0,  # normalized, as a request's value would be
        restrictions=Restrictions(is_optional=False, max_value=800),
        owl_uri=f"{ODA}Float",
        description="power",
    )
    assert Angle("RA").describe().units == "deg"
    assert Energy("E", units="MeV", default=1).describe().units == "keV"
    assert Energy("E", units="MeV", default=1).describe().default == 1000.0
    assert String("s", optional=True, owl_uri="urn:x").describe().owl_uri == "urn:x"


def test_every_type_states_its_restrictions():
    assert String("s").restrictions() == Restrictions()
    assert Integer("n", min_value=0).restrictions() == Restrictions(min_value=0)
    assert Boolean("b").restrictions() == Restrictions(allowed_values=(True, False))
    assert T1.restrictions() == Restrictions(format_parameter="T_format")
    assert Time("t", format_parameter=None).restrictions() == Restrictions()
    assert Structured("c", schema=SCHEMA, optional=True).restrictions() == Restrictions(is_optional=True, schema=SCHEMA)


def test_a_list_has_its_items_restrictions_and_its_own_optionality():
    ints = ListOf("l", item=Integer("i", min_value=1, max_value=9), optional=True)
    assert ints.restrictions() == Restrictions(is_optional=True, min_value=1, max_value=9, item_type="integer")
    grid = ListOf("g", item=ListOf("row", item=Float("x", max_value=2.0)))
    assert grid.restrictions() == Restrictions(max_value=2.0, item_type="list")
    assert grid.describe().type == "list" and grid.describe().owl_uri == f"{ODA}List"


def test_normalize_fills_defaults_and_names_unused_arguments():
    values, unused = normalize_parameters(
        [Float("p", default=10), T1, T_FORMAT], {"p": "12", "zeta": "1", "alpha": "2"}
    )
    assert values == {"p": 12.0, "T1": "2017-03-06T13:26:48.000", "T_format": "isot"}
    assert unused == ["alpha", "zeta"]
