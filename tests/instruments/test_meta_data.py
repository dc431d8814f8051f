"""The ODA protocol's /api/meta-data and /api/par-names, rendered from an instrument's description."""

import json

import pytest

from instruments.exceptions import UnknownProduct
from instruments.parameters import ODA, Float, Parameter
from instruments.registry import instrument_get
from jobs.interfaces.oda.metadata import meta_data_render, par_names_render, parameter_entry
from tests.instruments.test_descriptions import fake_handle


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
    ]
    # No ontology term: no owl_uri key at all.
    assert parameter_entry(Bare("b", optional=True).describe()) == {
        "name": "b",
        "units": None,
        "value": None,
        "type": "bare",
        "restrictions": {"is_optional": True},
    }


def test_meta_data_lists_the_source_the_instrument_and_the_asked_product():
    answer = meta_data_render(fake_handle().describe(), product_type="image")
    prod_dict = {"image": "image_query", "plain": "plain_query"}
    assert [query[0] for query in answer] == [
        {"query_name": "src_query"},
        {"query_name": "fake_parameters", "instrument": "fake", "prod_dict": prod_dict},
        {"query_name": "image_query", "product_name": "image"},
    ]
    assert [[entry["name"] for entry in query[1:]] for query in answer] == [
        ["src_name", "RA"],
        ["seed"],
        ["RA", "gain"],
    ]
    # The source query shows the common RA; the product query its own.
    assert answer[0][2]["value"] == 83.6 and answer[2][1]["value"] == 1.5


def test_meta_data_without_a_product_lists_every_product():
    answer = meta_data_render(fake_handle().describe())
    assert [query[0].get("product_name") for query in answer] == [None, None, "image", "plain"]
    assert answer[3] == [{"query_name": "plain_query", "product_name": "plain"}]


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


@pytest.mark.django_db
def test_the_builtin_empty_instrument_as_the_protocol_lists_it():
    answer = meta_data_render(instrument_get("empty").describe(), product_type="numerical")
    assert [query[0]["query_name"] for query in answer] == ["src_query", "empty_parameters", "numerical_query"]
    assert [entry["name"] for entry in answer[0][1:]] == ["src_name", "RA", "DEC", "T1", "T2", "T_format"]
    assert answer[0][4]["restrictions"] == {"is_optional": False, "format_parameter": "T_format"}
    assert answer[1][0]["prod_dict"]["numerical"] == "numerical_query"
    (p,) = answer[2][1:]
    assert p["name"] == "p" and p["units"] == "W" and p["value"] == 10.0
    assert p["restrictions"] == {"is_optional": False, "max_value": 800}
    everything = meta_data_render(instrument_get("empty").describe())
    assert [query[0].get("product_name") for query in everything[2:]] == ["dummy", "echo", "numerical", "failing"]
    assert par_names_render(instrument_get("empty").describe(), product_type="numerical") == [
        "src_name", "RA", "DEC", "T1", "T2", "T_format", "p", "token"
    ]  # fmt: skip
    assert "time_bin" in par_names_render(instrument_get("demo-lightcurve").describe())


@pytest.mark.django_db
def test_every_builtin_answer_is_strict_json():
    for name in ("empty", "empty-async", "empty-semi-async", "demo-lightcurve"):
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
    assert decoded[2][0] == {"query_name": "numerical_query", "product_name": "numerical"}
    assert decoded[2][1]["restrictions"]["max_value"] == 800
