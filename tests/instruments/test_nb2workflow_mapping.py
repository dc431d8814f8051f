"""The nb2workflow adapter's mappings, from recorded answers (no nb2workflow needed).

Options -> typed parameters and name maps; our values -> the notebook's arguments;
answers -> outcomes or AdapterErrors; outputs -> the protocol's product lists,
checked by decoding them with the real oda-api client.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import numpy as np
import pytest
import requests
from astropy.table import Table
from oda_api.api import DataCollection
from oda_api.data_products import NumpyDataProduct, NumpyDataUnit, ODAAstropyTable, PictureProduct

from instruments.base import AdapterError, RunRequest
from instruments.nb2workflow import Nb2workflowAdapter
from instruments.nb2workflow import adapter as adapter_module
from instruments.nb2workflow.adapter import notebook_arguments
from instruments.nb2workflow.answers import exception_text, read_answer
from instruments.nb2workflow.discovery import discover
from instruments.nb2workflow.outputs import products_from_output
from instruments.parameters import ParameterError
from tests.conftest import free_port

ODA = "http://odahub.io/ontology#"
XSD = "http://www.w3.org/2001/XMLSchema#"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAQAAAAECAAAAACMmsGiAAAAFklEQVR4nGMQBAIGdSBgUAYCBhkgAAARigHdJQYIOwAAAABJRU5ErkJggg=="
)


def declared(name: str, default: Any, owl_type: str | None, python: str, optional: bool = False) -> dict[str, Any]:
    """One parameter as nb2workflow's /api/v1.0/options describes it."""
    return {
        "name": name,
        "default_value": default,
        "value": default,
        "owl_type": owl_type,
        "python_type": {"type_object": f"<class '{python}'>"},
        "is_optional": optional,
        "comment": "",
        "extra_ttl": "\n",
    }


def output(name: str, owl_type: str | None) -> dict[str, Any]:
    return {"name": name, "owl_type": owl_type, "python_type": {"type_object": "<class 'str'>"}, "comment": ""}


OPTIONS = {
    "spectrum": {
        "parameters": {
            "source": declared("source", "Crab", f"{ODA}AstrophysicalObject", "str"),
            "RA": declared("RA", 1.5, None, "float"),  # not annotated: not the common RA
            "ra_obj": declared("ra_obj", 83.6, f"{ODA}PointOfInterestRA", "float"),
            "dec_obj": declared("dec_obj", 22.0, f"{ODA}PointOfInterestDEC", "float"),
            "t_start": declared("t_start", 59000.0, f"{ODA}StartTimeMJD", "float"),
            "t_stop": declared("t_stop", "2020-06-01T00:00:00", f"{ODA}EndTime", "str"),
            "e_max": declared("e_max", 1.0, f"{ODA}Energy_MeV", "float"),
            "band": declared("band", "r", f"{ODA}PhotometricBand", "str"),
            "odd_band": declared("odd_band", "x", f"{ODA}PhotometricBand", "str"),
            "seed": declared("seed", 7, f"{XSD}int", "int"),
            "flag": declared("flag", True, "http://example.org/Unknown", "bool"),
            "channels": declared("channels", [1, 2], None, "list"),
            "threshold": declared("threshold", None, f"{ODA}Float", "float", optional=True),
            "token": declared("token", "", f"{ODA}String", "str"),
        },
        "output": {"result": output("result", f"{ODA}Spectrum")},
    },
    "plain": {"parameters": {"x": declared("x", 2, f"{ODA}Integer", "int")}, "output": {}},
}


# --- discovery ----------------------------------------------------------------------


def test_owl_types_choose_our_parameter_types():
    found = discover(OPTIONS)

    own = {p.name: p for p in found.products["spectrum"].parameters}
    assert {name: type(p).__name__ for name, p in own.items()} == {
        "RA_rename": "Float",
        "e_max": "Energy",
        "band": "Enum",
        "odd_band": "String",  # "x" is no photometric band: kept as text rather than lost
        "seed": "Integer",
        "flag": "Boolean",  # unknown term: the python type decides
        "channels": "Structured",
        "threshold": "Float",
        "token_rename": "String",
    }
    assert own["e_max"].default == 1000.0  # our energies are keV
    assert own["band"].parse("g") == "g"
    with pytest.raises(ParameterError):
        own["band"].parse("purple")
    assert own["threshold"].optional and own["threshold"].parse(None) is None
    assert own["channels"].parse("[3, 4]") == [3, 4]
    assert own["seed"].owl_uri == f"{XSD}int"


def test_source_coordinates_and_times_become_the_common_parameters():
    found = discover(OPTIONS)

    common = {p.name: p for p in found.common}
    assert {name: type(p).__name__ for name, p in common.items()} == {
        "src_name": "String",
        "RA": "Angle",
        "DEC": "Angle",
        "T1": "Time",
        "T2": "Time",
        "T_format": "Enum",
    }
    assert common["T1"].default == "2020-05-31T00:00:00.000"  # the notebook's MJD default, as ISO-T
    assert common["T2"].parse("59000", {"T_format": "mjd"}) == "2020-05-31T00:00:00.000"
    with pytest.raises(ParameterError):
        common["RA"].parse("400")
    names = found.names["spectrum"]
    assert names.to_notebook["RA"] == "ra_obj" and names.to_notebook["RA_rename"] == "RA"
    assert names.to_notebook["src_name"] == "source" and names.to_notebook["T1"] == "t_start"
    assert found.outputs["spectrum"]["result"]["owl_type"] == f"{ODA}Spectrum"
    assert discover({"plain": OPTIONS["plain"]}).common == ()  # no times: no T_format either


def test_our_values_reach_the_notebook_by_its_names_formats_and_units():
    names = discover(OPTIONS).names["spectrum"]
    ours = {
        "src_name": "Vela",
        "RA": 128.8,
        "RA_rename": 0.5,
        "T1": "2020-05-31T12:00:00.000",
        "T2": "2020-06-01T00:00:00.000",
        "T_format": "isot",
        "e_max": 2500.0,
        "flag": False,
        "channels": [5, 6],
        "threshold": None,
        "not_in_this_notebook": 1,
    }

    assert notebook_arguments(ours, names) == {
        "source": "Vela",
        "ra_obj": "128.8",
        "RA": "0.5",
        "t_start": "59000.5",
        "t_stop": "2020-06-01T00:00:00.000",
        "e_max": "2.5",
        "flag": "False",
        "channels": "[5, 6]",
        "threshold": "\x00",
    }


# --- answers ------------------------------------------------------------------------

SYNC_500 = {
    "output": {},
    "exceptions": [
        "[PapermillExecutionError(1, 2, 'raise RuntimeError(f\"cannot compute: {reason}\")\\n', 'RuntimeError', "
        "'cannot compute: the detector is off', ['\\x1b[31m-------\\x1b[39m', '\\x1b[31mRuntimeError\\x1b[39m']), "
        "(1, 2, 'raise RuntimeError(f\"cannot compute: {reason}\")\\n', 'RuntimeError', "
        "'cannot compute: the detector is off', ['\\x1b[31m-------\\x1b[39m'])]"
    ],
    "jobdir": "/tmp/nb2w-abc",
}
ASYNC_FAILED = {
    "workflow_status": "done",
    "comment": "",
    "data": {
        "output": "incomplete",
        "exceptions": [{"ename": "ValueError", "evalue": "no data for 'Crab' in this range", "edump": 1}],
        "jobdir": "/tmp/nb2w-def",
    },
}


def read(status: int, body: Any) -> Any:
    text = body if isinstance(body, str) else json.dumps(body)
    return read_answer(status, text, instrument="isgri", outputs={"text": output("text", f"{ODA}ODATextProduct")})


@pytest.mark.parametrize("status", ["submitted", "started"])
def test_a_running_workflow_is_read_as_running(status):
    reading = read(201, {"workflow_status": status, "comment": f"task is {status}"})

    assert reading.status == status and reading.comment == f"task is {status}" and reading.products is None


def test_done_answers_give_products_in_both_modes():
    sync = read(200, {"output": {"text": "hello"}, "exceptions": [], "jobdir": "/tmp/x"})
    asynchronous = read(200, {"workflow_status": "done", "data": {"output": {"text": "hello"}, "exceptions": []}})

    for reading in (sync, asynchronous):
        assert reading.status == "done"
        assert reading.products.text_product_list == [
            {"name": "text", "value": "hello", "meta_data": {"uri": f"{ODA}ODATextProduct"}}
        ]


@pytest.mark.parametrize(
    ("status", "body", "retryable", "words"),
    [
        (500, SYNC_500, False, "isgri notebook failed: RuntimeError: cannot compute: the detector is off"),
        (200, ASYNC_FAILED, False, "isgri notebook failed: ValueError: no data for 'Crab' in this range"),
        (400, {"issues": ["invalid literal for int() with base 10: 'x'"]}, False, "refused the request: invalid"),
        (404, "<!doctype html><title>404 Not Found</title>", False, "does not offer this product"),
        (403, "forbidden", False, "answered HTTP 403"),
        (500, "<html>Internal Server Error</html>", True, "answered HTTP 500"),
        (503, "busy", True, "answered HTTP 503"),
        (200, "<html>a proxy's page</html>", False, "not JSON"),
        (200, {"output": {}, "exceptions": []}, False, "produced no output"),
        (
            200,
            {"workflow_status": "done", "data": {"output": "incomplete", "exceptions": []}},
            False,
            "did not complete",
        ),
        (200, {"workflow_status": "done"}, False, "reported done without any result"),
        (200, {"workflow_status": "anomaly"}, False, "unexpected answer"),
    ],
)
def test_failures_carry_the_backends_words(status, body, retryable, words):
    with pytest.raises(AdapterError) as failure:
        read(status, body)

    assert failure.value.retryable is retryable
    assert words in failure.value.message
    assert "\\x1b" not in failure.value.message and "\x1b" not in failure.value.message


def test_exception_texts_are_deduplicated_and_readable():
    assert exception_text(SYNC_500["exceptions"][0]) == "RuntimeError: cannot compute: the detector is off"
    assert exception_text({"ename": "KeyError('x')", "evalue": ""}) == "KeyError('x')"
    assert exception_text("something odd \x1b[31mhappened\x1b[39m") == "something odd happened"


# --- outputs ------------------------------------------------------------------------


def encoded_lightcurve() -> dict[str, Any]:
    """A light curve as a notebook using oda-api returns it (``lc.encode()``)."""
    rows = np.array([(1.0, 2.0, 0.1), (2.0, 3.0, 0.2)], dtype=[("TIME", "<f8"), ("RATE", "<f8"), ("ERROR", "<f8")])
    unit = NumpyDataUnit(data=rows, name="LIGHTCURVE", hdu_type="bintable", units_dict={"TIME": "d"})
    return NumpyDataProduct([unit], name="lc", meta_data={"src": "Crab"}).encode(use_pickle=False)


def test_annotated_outputs_land_in_the_protocols_lists_and_the_client_reads_them():
    table = Table({"e": [1.0, 2.0], "flux": [3.0, 4.0]})
    picture = PictureProduct(PNG, name="plot").encode()
    declarations = {
        "lc": output("lc", f"{ODA}LightCurve"),
        "counts": output("counts", f"{ODA}NumpyData"),
        "image": output("image", f"{ODA}Image"),
        "table": output("table", f"{ODA}ODAAstropyTable"),
        "ecsv": output("ecsv", f"{ODA}ODAAstropyTable"),
        "raw": output("raw", f"{ODA}ODABinaryProduct"),
        "picture": output("picture", f"{ODA}ODAPictureProduct"),
        "png": output("png", f"{ODA}ODABinaryImage"),
        "note": output("note", f"{ODA}ODATextProduct"),
        "count": output("count", f"{ODA}Integer"),
        "comment": output("comment", f"{ODA}WorkflowResultComment"),
    }
    answer = {
        "lc": encoded_lightcurve(),
        "counts": [1, 5, 2],
        "image": [[0.5, 1.5], [2.5, 3.5]],
        "table": ODAAstropyTable(table, name="fluxes").encode(),
        "ecsv": "# %ECSV 1.0\n# ---\n# datatype:\n# - {name: a, datatype: int64}\n# schema: astropy-2.0\na\n1\n2\n",
        "raw": base64.b64encode(b"\x00\x01binary\xff").decode(),
        "picture": json.dumps(picture),  # nb2workflow sends values it cannot glue as JSON text
        "png": base64.b64encode(PNG).decode(),
        "note": "all fine",
        "count": 3,
        "comment": "2 points dropped",
    }

    products = products_from_output(answer, declarations)

    assert products.comment == "2 points dropped"
    assert [p["name"] for p in products.numpy_data_product_list] == ["lc", "counts", "image"]
    assert [p["name"] for p in products.astropy_table_product_ascii_list] == ["fluxes", "ecsv"]
    assert (
        products.binary_data_product_list[0]["md5"]
        == hashlib.md5(b"\x00\x01binary\xff", usedforsecurity=False).hexdigest()
    )
    assert [p["name"] for p in products.binary_image_product_list] == ["plot", "png"]
    texts = {t["name"]: t["value"] for t in products.text_product_list}
    assert texts == {"note": "all fine", "count": "3"}
    assert set(products.files) == {"table.ecsv", "ecsv.ecsv", "raw.bin", "plot.png", "png.png"}
    # The real client reads every list back.
    decoded = DataCollection.from_response_json(
        {"products": products.as_protocol(), "job_monitor": {"job_id": "j1"}}, "isgri", "spectrum"
    )
    by_type: dict[str, list[Any]] = {}
    for product in decoded._p_list:
        by_type.setdefault(type(product).__name__, []).append(product)
    lc, counts, image = by_type["NumpyDataProduct"]
    assert lc.meta_data == {"src": "Crab", "uri": f"{ODA}LightCurve"}
    assert list(lc.data_unit[0].data["RATE"]) == [2.0, 3.0]
    assert list(counts.data_unit[0].data["counts"]) == [1, 5, 2]
    assert image.data_unit[0].data.tolist() == [[0.5, 1.5], [2.5, 3.5]]
    fluxes, ecsv = by_type["ODAAstropyTable"]
    assert list(fluxes.table["flux"]) == [3.0, 4.0] and list(ecsv.table["a"]) == [1, 2]
    (raw,) = by_type["BinaryProduct"]
    assert raw.bin_data == b"\x00\x01binary\xff"
    assert [p.binary_data for p in by_type["PictureProduct"]] == [PNG, PNG]
    assert [t.value for t in by_type["TextLikeProduct"]] == ["all fine", "3"]


def test_values_without_annotation_are_recognised_by_shape_or_kept_as_text():
    answer = {
        "lc": encoded_lightcurve(),
        "comment": "from the notebook",
        "plot": "out/plot.png",
        "plot_content": base64.b64encode(PNG).decode(),
        "data": "data.fits",
        "data_content": base64.b64encode(b"SIMPLE  =   T").decode(),
        "misc": {"a": [1, 2]},
        "flag": True,
    }

    declarations = {name: output(name, None) for name in answer if not name.endswith("_content")}

    products = products_from_output(answer, declarations)

    assert products.comment == "from the notebook"
    assert [p["name"] for p in products.numpy_data_product_list] == ["lc"]
    assert products.binary_image_product_list[0]["name"] == "plot" and products.files["plot.png"] == PNG
    assert products.binary_data_product_list[0]["name"] == "data"
    assert products.files["data.fits"] == b"SIMPLE  =   T"
    texts = {t["name"]: t["value"] for t in products.text_product_list}
    assert texts == {"misc": '{"a": [1, 2]}', "flag": "True"}  # no "_content" products of their own


@pytest.mark.parametrize(
    ("name", "owl_type", "is_comment"),
    [
        ("comment", None, True),
        ("comment", f"{ODA}String", True),
        ("notes", f"{ODA}WorkflowResultComment", True),
        ("comment", f"{ODA}Integer", False),
        ("remark", None, False),
    ],
)
def test_the_workflow_comment_is_found_by_annotation_or_name(name, owl_type, is_comment):
    products = products_from_output({name: "check the background"}, {name: output(name, owl_type)})

    assert (products.comment == "check the background") is is_comment
    assert bool(products.text_product_list) is not is_comment


def test_values_not_in_their_annotated_form_are_kept_as_text():
    declarations = {
        "nan": output("nan", f"{ODA}NumpyData"),
        "words": output("words", f"{ODA}NumpyData"),
        "table": output("table", f"{ODA}ODAAstropyTable"),
        "pic": output("pic", f"{ODA}ODABinaryImage"),
        "bin": output("bin", f"{ODA}ODABinaryProduct"),
    }
    answer = {"nan": [1.0, float("nan")], "words": ["a", "b"], "table": 5, "pic": "not base64!", "bin": 42}

    products = products_from_output(answer, declarations)

    assert products.as_protocol().keys() == {"text_product_list", "extra_metadata", "prod_uris"}
    assert [t["name"] for t in products.text_product_list] == ["nan", "words", "table", "pic", "bin"]
    assert all("not in the annotated form" in t["meta_data"]["note"] for t in products.text_product_list)
    assert "NaN" not in json.dumps(products.as_protocol())


# --- the adapter, with the network seam replaced -------------------------------------


class FakeBackend:
    """Stands for requests.get: scripted answers per path, every call recorded."""

    def __init__(self, answers: dict[str, list[tuple[int, Any]]]):
        self.answers = answers
        self.calls: list[tuple[str, dict[str, str]]] = []

    def __call__(self, url: str, params: dict[str, str] | None = None, timeout: Any = None) -> requests.Response:
        path = url.split("://", 1)[1].split("/", 1)[1]
        self.calls.append((path, dict(params or {})))
        script = self.answers[path]
        status, body = script.pop(0) if len(script) > 1 else script[0]
        if isinstance(body, Exception):
            raise body
        response = requests.Response()
        response.status_code = status
        response._content = (body if isinstance(body, str) else json.dumps(body)).encode()
        return response


@pytest.fixture
def backend(monkeypatch) -> FakeBackend:
    fake = FakeBackend({"api/v1.0/options": [(200, OPTIONS)]})
    monkeypatch.setattr(adapter_module.requests, "get", fake)
    return fake


def make_request(product: str = "plain", **fields: Any) -> RunRequest:
    return RunRequest(job_id="j1", instrument="isgri", product_type=product, params={"x": 3}, **fields)


def test_options_are_read_once_per_ttl_and_kept_when_a_refresh_fails(backend):
    adapter = Nb2workflowAdapter(name="isgri", settings={"url": "http://backend:1", "options_ttl_s": 0})

    assert set(adapter.describe()) == {"spectrum", "plain"}
    backend.answers["api/v1.0/options"] = [(0, requests.ConnectionError("refused"))]
    assert set(adapter.describe()) == {"spectrum", "plain"}  # the last good answer
    assert [path for path, _ in backend.calls] == ["api/v1.0/options"] * 2

    cached = Nb2workflowAdapter(name="isgri", settings={"url": "http://backend:1"})
    backend.answers["api/v1.0/options"] = [(200, OPTIONS)]
    cached.describe(), cached.describe(), cached.common_parameters()
    assert len(backend.calls) == 3


def test_async_submission_carries_the_callback_and_polls_back_off(backend):
    backend.answers["api/v1.0/get/plain"] = [
        (201, {"workflow_status": "submitted", "comment": "task created"}),
        (201, {"workflow_status": "started", "comment": "task is started"}),
        (201, {"workflow_status": "started", "comment": "task is started"}),
        (200, {"workflow_status": "done", "data": {"output": {"x2": 6}, "exceptions": []}}),
    ]
    settings = {"url": "http://backend:1", "poll_interval_s": 2, "timeout_s": 20}
    adapter = Nb2workflowAdapter(name="isgri", settings=settings)
    request = make_request(callback_url="http://us/call_back?job_id=j1&sig=abc")

    outcomes = [adapter.run(request)]
    for _ in range(3):
        request = RunRequest(**{**request.__dict__, "backend_ref": outcomes[-1].backend_ref})
        outcomes.append(adapter.poll(request))

    sent = [params for path, params in backend.calls if path == "api/v1.0/get/plain"]
    assert sent[0] == {
        "x": "3",
        "_async_request": "yes",
        "_async_request_callback": "http://us/call_back?job_id=j1&sig=abc",
    }
    assert all(params == sent[0] for params in sent)  # the same job, found again by its arguments
    assert [o.state for o in outcomes] == ["submitted", "progress", "progress", "done"]
    assert [o.poll_after_s for o in outcomes[:3]] == [2, 4, 8]
    assert [bool(o.message) for o in outcomes[:3]] == [True, True, False]  # only changes become events
    assert outcomes[3].products.text_product_list[0]["value"] == "6"
    # Polls stay below half the silence limit, so the jobs sweep never takes a live job for dead.
    request = RunRequest(**{**request.__dict__, "backend_ref": {**outcomes[2].backend_ref, "polls": 9}})
    backend.answers["api/v1.0/get/plain"] = [(201, {"workflow_status": "started"})]
    assert adapter.poll(request).poll_after_s == 10


def test_synchronous_mode_sends_no_async_arguments(backend):
    backend.answers["api/v1.0/get/plain"] = [(200, {"output": {"x2": 6}, "exceptions": []})]
    adapter = Nb2workflowAdapter(name="isgri", settings={"url": "http://backend:1", "async": "false"})

    outcome = adapter.run(make_request(callback_url="http://us/cb"))

    assert outcome.state == "done"
    assert backend.calls[-1] == ("api/v1.0/get/plain", {"x": "3"})


def test_a_timeout_is_retryable(backend):
    backend.answers["api/v1.0/get/plain"] = [(0, requests.ReadTimeout("slow"))]
    adapter = Nb2workflowAdapter(name="isgri", settings={"url": "http://backend:1", "timeout_s": 7})

    with pytest.raises(AdapterError) as failure:
        adapter.run(make_request())

    assert failure.value.retryable is True and "did not answer within 7 s" in failure.value.message


def test_an_unknown_product_or_missing_url_is_not_retryable(backend):
    with pytest.raises(AdapterError) as unknown:
        Nb2workflowAdapter(name="isgri", settings={"url": "http://backend:1"}).run(make_request("nope"))
    with pytest.raises(AdapterError) as no_url:
        Nb2workflowAdapter(name="isgri", settings={}).describe()

    assert (
        not unknown.value.retryable and "offers no product nope (it offers: plain, spectrum)" in unknown.value.message
    )
    assert not no_url.value.retryable and "no backend URL" in no_url.value.message


def test_an_unreachable_backend_is_retryable_and_named():
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    adapter = Nb2workflowAdapter(name="isgri", settings={"url": url, "timeout_s": 5})

    for call in (adapter.describe, adapter.check):
        with pytest.raises(AdapterError) as failure:
            call()
        assert failure.value.retryable is True
        assert "isgri" in failure.value.message and url in failure.value.message
