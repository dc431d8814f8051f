"""The ODA protocol's /api/meta-data and /api/par-names, rendered from an instrument's description."""

import json

import pytest

from instruments.exceptions import UnknownProduct
from instruments.parameters import ODA, Float, Parameter
from instruments.registry import instrument_get
from jobs.interfaces.oda.metadata import meta_data_render, par_names_render, parameter_entry
from tests.instruments.test_descriptions import fake_handle

BUILTIN_NAMES = (
    "empty",
    "empty-async",
    "empty-semi-async",
    "empty-development",
    "empty-with-conf",
    "empty-async-return-progress",
    "empty-with-posix-path",
    "demo-lightcurve",
)


class Bare(Parameter):
    type_name = "bare"


def test_a_parameter_entry_has_the_protocols_keys_in_order():
    entry = parameter_entry(Float("p", units="W", default=10, max_value=800, description="power").describe())
    assert list(entry.items()) == [
        ("name", "p"),
        ("units", "W"),
        ("value", 10.0),
        ("type", "float"),
        ("restrictions", {"is_optional": False, "max_value": 800}),
        ("owl_uri", f"{ODA}Float"),
        ("extra_metadata", {"description": "power"}),
    ]
    # No ontology term, no description: neither key at all.
    assert parameter_entry(Bare("b", optional=True).describe()) == {
        "name": "b",
        "units": None,
        "value": None,
        "type": "bare",
        "restrictions": {"is_optional": True},
    }


def test_extra_metadata_carries_a_forms_label_and_group():
    described = Float("p", extra_metadata={"label": "Power", "group": "Settings"}).describe()
    assert parameter_entry(described)["extra_metadata"] == {"label": "Power", "group": "Settings"}


def test_meta_data_is_the_earlier_dispatchers_nested_list():
    (listing,) = meta_data_render(fake_handle().describe(), product_type="image")
    prod_dict = {"image": "fake_parameters_image_query", "plain": "fake_parameters_plain_query"}
    assert listing[0] == {"instrumet": "fake"}
    assert listing[1] == {"prod_dict": prod_dict}
    assert [query[0] for query in listing[2:]] == [
        {"query_name": "src_query"},
        {"query_name": "fake_instrument_query"},
        {"query_name": "fake_parameters_image_query"},
    ]
    assert listing[4][1] == {"product_name": "image"}
    assert [[entry["name"] for entry in query if "name" in entry] for query in listing[2:]] == [
        ["src_name", "RA", "token"],
        ["seed"],
        ["RA", "gain"],
    ]
    # The source query shows the common RA; the product query its own.
    assert listing[2][2]["value"] == 83.6 and listing[4][2]["value"] == 1.5


def test_meta_data_without_a_product_lists_every_product():
    (listing,) = meta_data_render(fake_handle().describe())
    assert [query[1].get("product_name") for query in listing[4:]] == ["image", "plain"]
    assert listing[5] == [{"query_name": "fake_parameters_plain_query"}, {"product_name": "plain"}]


def test_par_names_are_every_accepted_name_then_the_token():
    described = fake_handle().describe()
    assert par_names_render(described, product_type="image") == ["seed", "src_name", "RA", "gain", "token"]
    assert par_names_render(described, product_type="plain") == ["seed", "src_name", "RA", "token"]
    assert par_names_render(described) == ["seed", "src_name", "RA", "gain", "token"]


@pytest.mark.parametrize("render", [meta_data_render, par_names_render])
@pytest.mark.parametrize("product_type", ["no-such", ""])
def test_an_unknown_product_is_refused_naming_the_products(render, product_type):
    with pytest.raises(UnknownProduct) as caught:
        render(fake_handle().describe(), product_type=product_type)
    assert str(caught.value) == f"Instrument fake has no product {product_type!r}; its products: image, plain."


def tab_generator_reads(answer: list) -> dict:
    """What the frontend's tab generator takes from /api/meta-data, by position as it does."""
    description = answer[0]
    return {
        "instrument": description[0]["instrumet"],
        "prod_dict": description[1]["prod_dict"],
        "instrument_parameters": [entry["name"] for entry in description[3][1:]],
        "queries": {query[0]["query_name"]: query for query in description[2:]},
    }


@pytest.mark.django_db
def test_the_tab_generator_finds_every_product_query_of_empty():
    read = tab_generator_reads(meta_data_render(instrument_get("empty").describe()))
    assert read["instrument"] == "empty"
    assert list(read["prod_dict"]) == [
        "dummy", "numerical", "file_dummy", "failing", "parametrical", "echo", "restricted", "structured", "optional"
    ]  # fmt: skip
    assert read["instrument_parameters"] == ["p_list"]
    for product, name in read["prod_dict"].items():
        assert read["queries"][name][1] == {"product_name": product}
    numerical = read["queries"]["empty_parameters_numerical_query"]
    (p,) = numerical[2:]
    assert (p["name"], p["units"], p["value"]) == ("p", "W", 10.0)
    assert p["restrictions"] == {"is_optional": False, "max_value": 800}
    source = read["queries"]["src_query"]
    assert [entry["name"] for entry in source[1:]] == ["src_name", "RA", "DEC", "T1", "T2", "T_format", "token"]
    assert source[4]["restrictions"] == {"is_optional": False, "format_parameter": "T_format"}


@pytest.mark.django_db
def test_the_builtin_products_have_the_earlier_dispatchers_parameters():
    def own(instrument: str, product: str) -> dict:
        (listing,) = meta_data_render(instrument_get(instrument).describe(), product_type=product)
        return {entry["name"]: entry for entry in listing[4][2:]}

    assert set(own("empty", "restricted")) == {"bounded_int_par", "bounded_float_par", "string_select_par"}
    assert own("empty", "restricted")["bounded_float_par"]["restrictions"] == {
        "is_optional": False, "min_value": 2.2, "max_value": 7.7
    }  # fmt: skip
    assert own("empty", "restricted")["string_select_par"]["restrictions"]["allowed_values"] == ["spam", "eggs", "ham"]
    assert own("empty", "structured")["struct"]["value"] == {"a": [1, 2]}
    assert own("empty", "optional")["optional_def_none"]["restrictions"] == {"is_optional": True}
    assert own("empty", "file_dummy")["dummy_file"]["owl_uri"] == f"{ODA}FileURL"
    assert own("empty-with-posix-path", "file_dummy")["dummy_POSIX_file"]["owl_uri"] == f"{ODA}POSIXPath"
    assert own("empty-async", "numerical")["string_like_name"]["value"] == "default-name"
    assert set(own("empty", "echo")) == {"ang", "ang_deg", "energ", "energy_units"}
    assert own("empty", "parametrical")["sb"]["units"] == "keV"


@pytest.mark.django_db
def test_par_names_without_a_product_are_those_of_every_product():
    names = par_names_render(instrument_get("empty").describe())
    assert names[-1] == "token"
    for expected in ("src_name", "p_list", "p", "dummy_file", "sb", "ang", "bounded_int_par", "struct"):
        assert expected in names
    assert par_names_render(instrument_get("empty").describe(), product_type="numerical") == [
        "src_name", "RA", "DEC", "T1", "T2", "T_format", "p_list", "p", "token"
    ]  # fmt: skip
    assert "time_bin" in par_names_render(instrument_get("demo-lightcurve").describe())


@pytest.mark.django_db
def test_every_builtin_answer_is_strict_json():
    for name in BUILTIN_NAMES:
        json.dumps(meta_data_render(instrument_get(name).describe()), allow_nan=False)


@pytest.mark.django_db
def test_meta_data_is_readable_by_the_oda_api_client():
    api_module = pytest.importorskip("oda_api.api")
    body = json.dumps(meta_data_render(instrument_get("empty").describe(), product_type="numerical"), allow_nan=False)

    class Answer:  # what requests gives the client
        content = body.encode()

        def json(self):
            return json.loads(body)

    decoded = api_module.DispatcherAPI(url="http://127.0.0.1:9")._decode_res_json(Answer())
    assert decoded[0][4][:2] == [{"query_name": "empty_parameters_numerical_query"}, {"product_name": "numerical"}]
    assert decoded[0][4][2]["restrictions"]["max_value"] == 800
