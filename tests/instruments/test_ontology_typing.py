"""Types from the ODA ontology (instruments.ontology) and what nb2workflow adds to it: its
extra_ttl annotations on parameters and outputs, file references, WorkflowParameter products,
binary tables, and the owner's token passed as _token (no nb2workflow needed here).

The ontology is the one the ODA project publishes (../shared/data/oda-ontology.ttl), read
from there; the extra Turtle below is what nb2workflow 1.3.118 produced for the
annotations of tests/notebooks/full/bounded.ipynb.
"""

from __future__ import annotations

import base64
import json
import os
import pickle
from pathlib import Path
from typing import Any

import pytest
import requests
from astropy import units as u
from astropy.table import Table
from oda_api.data_products import ODAAstropyTable

from instruments import parameters
from instruments.base import AdapterError, RunRequest
from instruments.nb2workflow import Nb2workflowAdapter
from instruments.nb2workflow import adapter as adapter_module
from instruments.nb2workflow.answers import read_answer
from instruments.nb2workflow.discovery import discover
from instruments.nb2workflow.outputs import products_from_output
from instruments.ontology import Ontology, OntologyError, ontology_load
from instruments.parameters import ParameterError
from tests.ontology import oda_ontology_path

ODA = "http://odahub.io/ontology#"

RADIUS_CLASS = (
    f"{ODA}01decimal_10integer_Float_Radius_Region_Searchradius_description_group_label_lower_limit_upper_limit"
)
RADIUS_TTL = f"""@prefix oda: <http://odahub.io/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .

<{RADIUS_CLASS}> oda:description "Radius of the region searched, in degrees" ;
    oda:group "Region" ;
    oda:label "Search radius" ;
    oda:lower_limit 0.1 ;
    oda:upper_limit 10 ;
    rdfs:subClassOf oda:Float .
"""
BAND_CLASS = f"{ODA}Photometricband_String_allowed_value_allowed_value_allowed_value_g_i_label_r"
BAND_TTL = f"""@prefix oda: <http://odahub.io/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .

<{BAND_CLASS}> oda:allowed_value "g", "i", "r" ;
    oda:label "Photometric band" ;
    rdfs:subClassOf oda:String .
"""
AREA_CLASS = f"{ODA}Areasearched_Float_description_label_pirsquared"
AREA_TTL = f"""@prefix oda: <http://odahub.io/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .

<{AREA_CLASS}> oda:description "pi r squared" ; oda:label "Area searched" ; rdfs:subClassOf oda:Float .
"""


@pytest.fixture(scope="module")
def ontology() -> Ontology:
    loaded = ontology_load(oda_ontology_path())
    assert len(loaded.graph) > 500
    return loaded


def declared(name: str, default: Any, owl_type: str, python: str, extra_ttl: str = "\n") -> dict[str, Any]:
    return {
        "name": name,
        "default_value": default,
        "owl_type": owl_type,
        "python_type": {"type_object": f"<class '{python}'>"},
        "is_optional": False,
        "extra_ttl": extra_ttl,
    }


OPTIONS = {
    "bounded": {
        "parameters": {
            "radius": declared("radius", 1.5, RADIUS_CLASS, "float", RADIUS_TTL),
            "band": declared("band", "g", BAND_CLASS, "str", BAND_TTL),
            "energy": declared("energy", 30.0, f"{ODA}ISGRIEnergy", "float"),
            "share": declared("share", 50.0, f"{ODA}Percentage", "float"),
            "start": declared("start", 59000.0, f"{ODA}StartTimeMJD", "float"),
            "events_file": declared("events_file", "", f"{ODA}POSIXPath", "str"),
            "link": declared("link", "", f"{ODA}FileURL", "str"),
        },
        "output": {},
    }
}


# --- the ontology itself -----------------------------------------------------------------------------


def test_a_term_has_its_lineage_and_the_ontologys_restrictions(ontology):
    energy = ontology.facts(f"{ODA}ISGRIEnergy")
    band = ontology.facts(f"{ODA}PhotometricBand")

    assert energy.lineage[:3] == (f"{ODA}ISGRIEnergy", f"{ODA}Energy_keV", f"{ODA}Energy")
    assert (energy.min_value, energy.max_value, energy.unit) == (15.0, 800.0, "keV")
    assert band.allowed_values is not None and {"g", "r", "i", "z"} <= set(band.allowed_values)
    assert ontology.facts(f"{ODA}StartTimeMJD").format == "mjd"
    assert ontology.facts(f"{ODA}POSIXPath").descends_from(f"{ODA}FileReference")
    assert ontology.facts(f"{ODA}Integer").descends_from(f"{ODA}WorkflowParameter")


def test_extra_turtle_adds_a_class_with_bounds_and_labels(ontology):
    radius = ontology.facts(RADIUS_CLASS, RADIUS_TTL)

    assert radius.lineage[1] == f"{ODA}Float"
    assert (radius.min_value, radius.max_value) == (0.1, 10.0)
    assert radius.extra_metadata == {
        "label": "Search radius",
        "group": "Region",
        "description": "Radius of the region searched, in degrees",
    }
    # The extra Turtle is read for that question only.
    assert ontology.facts(RADIUS_CLASS).lineage == (RADIUS_CLASS,)


def test_extra_turtle_is_read_without_the_ontology_file_too():
    band = Ontology().facts(BAND_CLASS, BAND_TTL)

    assert band.lineage == (BAND_CLASS, f"{ODA}String") and band.allowed_values == ("g", "i", "r")


def test_turtle_that_is_not_turtle_is_an_ontology_error(ontology):
    with pytest.raises(OntologyError):
        ontology.facts(RADIUS_CLASS, "this is { not turtle")


def test_an_unreadable_ontology_file_leaves_the_built_in_terms(tmp_path):
    broken = tmp_path / "broken.ttl"
    broken.write_text("@prefix : <x> . this is not turtle")

    assert len(ontology_load(broken).graph) == 0
    assert len(ontology_load(tmp_path / "missing.ttl").graph) == 0


# --- parameters -----------------------------------------------------------------------------------


def bounded_parameters(ontology: Ontology | None) -> dict[str, parameters.Parameter]:
    discovery = discover(OPTIONS, ontology)
    return {p.name: p for p in (*discovery.common, *discovery.products["bounded"].parameters)}


def test_parameters_are_typed_through_the_hierarchy_with_their_bounds(ontology):
    found = bounded_parameters(ontology)

    assert {name: type(p).__name__ for name, p in found.items()} == {
        "T1": "Time",
        "T_format": "Enum",
        "radius": "Float",
        "band": "String",
        "energy": "Energy",
        "share": "Float",
        "events_file": "POSIXPath",
        "link": "FileURL",
    }
    assert (found["radius"].min_value, found["radius"].max_value) == (0.1, 10.0)
    assert (found["energy"].min_value, found["energy"].max_value) == (15.0, 800.0)
    assert found["band"].allowed_values == ["g", "i", "r"]
    assert found["radius"].extra_metadata == {
        "label": "Search radius",
        "group": "Region",
        "description": "Radius of the region searched, in degrees",
    }
    assert found["events_file"].describe().type == "file"


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("radius", "20", "must be at most 10"),
        ("radius", "0.05", "must be at least 0.1"),
        ("band", "z", "must be one of g, i, r"),
        ("energy", "10", "must be at least 15"),
        ("energy", "1 MeV", "must be at most 800"),
        ("share", "101", "must be at most 100"),
    ],
)
def test_values_out_of_the_annotations_are_refused(ontology, name, value, words):
    with pytest.raises(ParameterError) as refused:
        bounded_parameters(ontology)[name].parse(value)

    assert words in refused.value.message


def test_without_the_ontology_file_extra_ttl_still_counts_and_unknown_terms_fall_back(ontology):
    found = bounded_parameters(None)

    assert (found["radius"].min_value, found["radius"].max_value) == (0.1, 10.0)
    assert found["band"].allowed_values == ["g", "i", "r"]
    # ISGRIEnergy is not in the built-in table: a plain float, without the ontology's bounds.
    assert type(found["energy"]).__name__ == "Float" and found["energy"].max_value is None
    assert type(found["events_file"]).__name__ == "POSIXPath"


def test_numbers_may_have_allowed_values():
    binning = parameters.Integer("binning", default=2, allowed_values=[1, 2, 4])

    assert binning.parse("4") == 4
    assert binning.describe().restrictions.allowed_values == (1.0, 2.0, 4.0)
    with pytest.raises(ParameterError, match="must be one of 1, 2, 4"):
        binning.parse("3")


# --- outputs --------------------------------------------------------------------------------------


def output(name: str, owl_type: str, extra_ttl: str = "\n") -> dict[str, Any]:
    return {"name": name, "owl_type": owl_type, "extra_ttl": extra_ttl}


def test_workflow_parameters_are_text_products_with_their_uri_and_labels(ontology):
    declarations = {
        "area": output("area", AREA_CLASS, AREA_TTL),
        "energy": output("energy", f"{ODA}ISGRIEnergy"),
        "note": output("note", f"{ODA}ODATextProduct"),
    }
    answer = {"area": 12.56636, "energy": {"value": 30}, "note": "fine"}

    products = products_from_output(answer, declarations, ontology)

    texts = {t["name"]: t for t in products.text_product_list}
    assert texts["area"]["value"] == "12.56636" and texts["area"]["meta_data"]["uri"] == AREA_CLASS
    # A WorkflowParameter (through the hierarchy) is a text product whatever its value's shape.
    assert texts["energy"]["meta_data"]["uri"] == f"{ODA}ISGRIEnergy"
    assert products.extra["extra_metadata"] == {
        "area": {"label": "Area searched", "description": "pi r squared"},
        "energy": {},
        "note": {},
    }
    assert products.extra["prod_uris"] == {
        "area": AREA_CLASS,
        "energy": f"{ODA}ISGRIEnergy",
        "note": f"{ODA}ODATextProduct",
    }
    assert texts["area"]["meta_data"]["extra_metadata"] == {"label": "Area searched", "description": "pi r squared"}


def test_a_class_below_a_product_kind_is_placed_as_that_kind(ontology):
    counts_class = f"{ODA}Counts_ODAAstropyTable_label"
    subclass_of = "<http://www.w3.org/2000/01/rdf-schema#subClassOf>"
    ttl = f'<{counts_class}> <{ODA}label> "Counts" ; {subclass_of} <{ODA}ODAAstropyTable> .'
    table = ODAAstropyTable(Table({"a": [1, 2]}), name="counts").encode(use_binary=True)

    products = products_from_output({"counts": table}, {"counts": output("counts", counts_class, ttl)}, ontology)

    (entry,) = products.astropy_table_product_ascii_list
    assert list(Table.read(entry["ascii"], format="ascii.ecsv")["a"]) == [1, 2]
    assert products.extra["extra_metadata"]["counts"] == {"label": "Counts"}


def test_binary_tables_become_ecsv_with_their_units():
    table = Table({"time": [0.5, 1.0], "flux": [2.5, 3.5] * u.keV}, meta={"src": "Crab"})
    encoded = ODAAstropyTable(table, name="fluxes").encode(use_binary=True)
    assert encoded["ascii"] is None

    products = products_from_output({"t": json.dumps(encoded)}, {"t": output("t", f"{ODA}ODAAstropyTable")})

    (entry,) = products.astropy_table_product_ascii_list
    back = Table.read(entry["ascii"], format="ascii.ecsv")
    assert entry["name"] == "fluxes" and list(back["flux"]) == [2.5, 3.5] and back["flux"].unit == u.keV
    assert products.files["t.ecsv"] == entry["ascii"].encode()


class Trap:
    """A pickle that, once loaded by a plain unpickler, runs a shell command (it creates ``path``)."""

    def __init__(self, path: Path):
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


@pytest.mark.parametrize("payload", ["trap", [1, 2], {"not": "a table"}])
def test_a_binary_table_that_is_no_table_is_kept_as_text_and_runs_nothing(payload, tmp_path):
    trap = tmp_path / "pwned"
    pickled = pickle.dumps(Trap(trap) if payload == "trap" else payload)
    assert payload != "trap" or "posix" in pickled.decode("latin-1")  # it names os.system, as posix.system
    evil = {"name": "t", "binary": base64.b64encode(pickled).decode(), "ascii": None, "meta_data": "{}"}

    products = products_from_output({"t": evil}, {"t": output("t", f"{ODA}ODAAstropyTable")})

    assert not trap.exists()
    assert not products.astropy_table_product_ascii_list
    (kept,) = products.text_product_list
    assert "not in the annotated form" in kept["meta_data"]["note"] and "binary" not in kept["value"]


def test_a_notebooks_failure_never_shows_the_token_it_was_given():
    failed = {
        "workflow_status": "done",
        "data": {
            "output": "incomplete",
            "exceptions": [
                {"ename": "Exception", "evalue": "cannot fetch http://us/download_file?file_list=a&token=eyJx.y.z"}
            ],
        },
    }

    with pytest.raises(AdapterError) as failure:
        read_answer(200, json.dumps(failed), instrument="nb", outputs={})

    assert "eyJx" not in failure.value.message and "eyJx" not in failure.value.debug
    assert "token=[redacted]" in failure.value.message


# --- the owner's token -------------------------------------------------------------------------------


class Backend:
    """Stands for requests.get: the options, then a finished run; every call's arguments recorded."""

    def __init__(self):
        self.calls: list[dict[str, str]] = []

    def __call__(self, url: str, params: dict[str, str] | None = None, timeout: Any = None) -> requests.Response:
        response = requests.Response()
        response.status_code = 200
        if url.endswith("/options"):
            body: Any = {"plain": {"parameters": {"x": declared("x", 1, f"{ODA}Integer", "int")}, "output": {}}}
        else:
            self.calls.append(dict(params or {}))
            body = {"workflow_status": "submitted", "comment": "task created"}
        response._content = json.dumps(body).encode()
        return response


@pytest.fixture
def backend(monkeypatch) -> Backend:
    fake = Backend()
    monkeypatch.setattr(adapter_module.requests, "get", fake)
    return fake


def run(owner: str, **settings: Any):
    adapter = Nb2workflowAdapter(name="nb", settings={"url": "http://backend:1", **settings})
    token = f"token-of-{owner}" if owner else ""
    request = RunRequest(
        job_id="j1", instrument="nb", product_type="plain", params={"x": 2}, owner=owner, owner_token=token
    )
    return adapter.run(request)


def test_the_owners_token_goes_to_the_notebook_as__token_and_is_never_kept(backend):
    outcome = run("alice@example.org")

    assert backend.calls[-1]["_token"] == "token-of-alice@example.org"
    assert "_token" not in outcome.backend_ref["query"]  # the job row never holds it
    assert "token-of" not in json.dumps(outcome.backend_ref)


def test_no_token_for_a_public_request_nor_when_the_instrument_passes_none(backend):
    run("")
    run("alice@example.org", pass_token=False)
    run("alice@example.org", pass_token="false")

    assert [call.get("_token") for call in backend.calls] == [None, None, None]


def test_an_unreachable_backend_does_not_quote_the_token(monkeypatch):
    def refused(url: str, params: dict[str, str] | None = None, timeout: Any = None):
        raise requests.ConnectionError(f"cannot reach {url}?x=2&_token={params['_token']}")

    adapter = Nb2workflowAdapter(name="nb", settings={"url": "http://backend:1"})
    monkeypatch.setattr(adapter_module.requests, "get", refused)
    with pytest.raises(AdapterError) as failure:
        adapter._get("/api/v1.0/get/plain", params={"_token": "secret-token"}, timeout_s=1)

    assert "secret-token" not in failure.value.debug and "[redacted]" in failure.value.debug
