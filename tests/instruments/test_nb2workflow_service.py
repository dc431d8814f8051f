# ruff: noqa: F811  (the fixtures imported below are used as arguments, as pytest does)
"""The nb2workflow adapter against a real nb2workflow service (see tests/nb2w_server.py).

The service serves tests/notebooks/: ``lightcurve`` (typed parameters, several
outputs) and ``failing`` (raises). Results are cached by nb2workflow by their
arguments, so every test asks with its own ``label``.
"""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any

import pytest
from astropy.table import Table
from oda_api.data_products import NumpyDataProduct, PictureProduct

from instruments import parameters
from instruments.base import AdapterError, RunOutcome, RunRequest
from instruments.nb2workflow import Nb2workflowAdapter
from instruments.parameters import normalize_parameters
from tests.nb2w_server import CallbackReceiver, callback_receiver, nb2w_service, nb2w_url  # noqa: F401

pytestmark = pytest.mark.e2e

POLL_DEADLINE_S = 60.0


def adapter_for(url: str, **settings: Any) -> Nb2workflowAdapter:
    return Nb2workflowAdapter(name="nb2w-test", settings={"url": url, "poll_interval_s": 0.5, **settings})


def request_for(adapter: Nb2workflowAdapter, product: str, raw: dict[str, Any], **fields: Any) -> RunRequest:
    """A request as the jobs services build it: values normalized by the discovered parameters."""
    accepted = [*adapter.common_parameters(), *adapter.describe()[product].parameters]
    params, unused = normalize_parameters(parameters.dependency_order(accepted), raw)
    assert unused == []
    return RunRequest(job_id=uuid.uuid4().hex, instrument=adapter.name, product_type=product, params=params, **fields)


def unique_label() -> str:
    return f"t-{uuid.uuid4().hex[:8]}"


def poll_until_done(adapter: Nb2workflowAdapter, request: RunRequest, outcome: RunOutcome) -> list[RunOutcome]:
    """Poll as the jobs services do (carrying backend_ref) until done; every outcome seen."""
    seen = [outcome]
    deadline = time.monotonic() + POLL_DEADLINE_S
    while outcome.state != "done":
        assert time.monotonic() < deadline, f"not done after {POLL_DEADLINE_S} s: {seen}"
        assert outcome.poll_after_s is not None and outcome.poll_after_s > 0
        time.sleep(min(outcome.poll_after_s, 1.0))
        request = RunRequest(**{**request.__dict__, "backend_ref": outcome.backend_ref})
        outcome = adapter.poll(request)
        seen.append(outcome)
    return seen


def assert_lightcurve_products(outcome: RunOutcome, *, n_bins: int) -> None:
    products = outcome.products
    assert outcome.state == "done" and products is not None
    assert products.comment == f"{n_bins} bins computed"
    texts = {t["name"]: t["value"] for t in products.text_product_list}
    assert set(texts) == {"summary", "total"}
    (spectrum,) = products.numpy_data_product_list
    counts = NumpyDataProduct.decode(spectrum).data_unit[0].data["spectrum"]
    assert len(counts) == n_bins
    assert int(texts["total"]) == round(sum(counts))
    (table_entry,) = products.astropy_table_product_ascii_list
    table = Table.read(table_entry["ascii"], format="ascii.ecsv")
    assert list(table.colnames) == ["bin", "counts"] and len(table) == n_bins
    pictures = {p["name"]: p for p in products.binary_image_product_list}
    assert set(pictures) == {"picture", "plot_file"}
    png = PictureProduct.decode(pictures["plot_file"]).binary_data
    assert png.startswith(b"\x89PNG") and products.files["counts.png"] == png
    assert base64.urlsafe_b64decode(pictures["picture"]["b64data"]) == png


def test_it_discovers_products_and_typed_parameters(nb2w_url):
    adapter = adapter_for(nb2w_url)

    products = adapter.describe()

    assert set(products) == {"lightcurve", "failing"}
    own = {p.name: p for p in products["lightcurve"].parameters}
    assert {name: type(p).__name__ for name, p in own.items()} == {
        "n_bins": "Integer",
        "rate": "Float",
        "e_min": "Energy",
        "label": "String",
        "smooth": "Boolean",
    }
    assert own["n_bins"].default == 8 and own["e_min"].default == 30.0 and own["smooth"].default is False
    common = {p.name: type(p).__name__ for p in adapter.common_parameters()}
    assert common == {
        "src_name": "String",
        "RA": "Angle",
        "DEC": "Angle",
        "T1": "Time",
        "T2": "Time",
        "T_format": "Enum",
    }
    names = adapter.discovery().names["lightcurve"].to_notebook
    assert names["RA"] == "ra" and names["DEC"] == "dec" and names["T1"] == "start_time" and names["T2"] == "end_time"
    assert [p.name for p in products["failing"].parameters] == ["reason"]


def test_it_runs_synchronously_with_values_translated_to_the_notebook(nb2w_url):
    adapter = adapter_for(nb2w_url, **{"async": False})
    label = unique_label()
    raw = {"RA": "10.5", "T1": "59580", "T_format": "mjd", "n_bins": "4", "e_min": "0.05 MeV", "label": label}

    outcome = adapter.run(request_for(adapter, "lightcurve", raw))

    assert_lightcurve_products(outcome, n_bins=4)
    summary = next(t["value"] for t in outcome.products.text_product_list if t["name"] == "summary")
    # Our names and units reached the notebook under its own names and units.
    assert summary.startswith(f"{label}: Crab at RA=10.5 Dec=22.014 from 2022-01-01T00:00:00.000 to ")
    assert summary.endswith("E>50.0 keV")


def test_it_runs_asynchronously_and_the_backend_calls_back(nb2w_url, callback_receiver: CallbackReceiver):
    adapter = adapter_for(nb2w_url)
    callback_url = f"{callback_receiver.url}/call_back?job_id=J1&signature=s1gn"
    request = request_for(adapter, "lightcurve", {"n_bins": "5", "label": unique_label()}, callback_url=callback_url)

    submitted = adapter.run(request)

    assert submitted.state == "submitted" and submitted.poll_after_s and submitted.poll_after_s > 0
    assert submitted.backend_ref["query"]["_async_request_callback"] == callback_url
    progress = callback_receiver.wait_for("progress")
    done = callback_receiver.wait_for("done")
    # Our signed URL's own arguments come back with each report.
    assert progress["_path"] == done["_path"] == "/call_back"
    assert done["job_id"] == "J1" and done["signature"] == "s1gn"
    assert callback_receiver.calls.index(progress) < callback_receiver.calls.index(done)
    completed = adapter.complete(RunRequest(**{**request.__dict__, "backend_ref": submitted.backend_ref}), done)
    assert_lightcurve_products(completed, n_bins=5)


def test_polling_finishes_the_job_when_no_call_back_comes(nb2w_url):
    adapter = adapter_for(nb2w_url)
    request = request_for(adapter, "lightcurve", {"n_bins": "3", "label": unique_label()})

    seen = poll_until_done(adapter, request, adapter.run(request))

    assert seen[0].state == "submitted" and seen[0].message
    assert_lightcurve_products(seen[-1], n_bins=3)
    # A job event per change of the backend's status, not one per poll.
    running = [o for o in seen if o.state != "done"]
    changes = [o for o in running if o.message]
    assert len(changes) == len({o.backend_ref["workflow_status"] for o in running})


def test_a_notebook_exception_fails_a_synchronous_run_with_its_message(nb2w_url):
    adapter = adapter_for(nb2w_url, **{"async": False})
    request = request_for(adapter, "failing", {"reason": f"no photons today {unique_label()}"})

    with pytest.raises(AdapterError) as failure:
        adapter.run(request)

    assert failure.value.retryable is False
    assert "RuntimeError: cannot compute: no photons today" in failure.value.message
    assert "nb2w-test" in failure.value.message


def test_a_notebook_exception_fails_an_asynchronous_run_with_its_message(nb2w_url, callback_receiver):
    adapter = adapter_for(nb2w_url)
    reason = f"the dome is closed {unique_label()}"
    request = request_for(adapter, "failing", {"reason": reason}, callback_url=f"{callback_receiver.url}/cb")

    submitted = adapter.run(request)
    report = callback_receiver.wait_for("done")  # nb2workflow says done after a failure too
    with pytest.raises(AdapterError) as failure:
        adapter.complete(RunRequest(**{**request.__dict__, "backend_ref": submitted.backend_ref}), report)

    assert failure.value.retryable is False
    assert f"RuntimeError: cannot compute: {reason}" in failure.value.message


def test_arguments_the_backend_refuses_fail_with_its_issues(nb2w_url):
    adapter = adapter_for(nb2w_url, **{"async": False})
    request = RunRequest(job_id="j", instrument="nb2w-test", product_type="lightcurve", params={"n_bins": "many"})

    with pytest.raises(AdapterError) as failure:
        adapter.run(request)

    assert failure.value.retryable is False
    assert "refused the request" in failure.value.message and "'many'" in failure.value.message


def test_check_reports_the_backend_and_its_products(nb2w_url):
    report = adapter_for(nb2w_url).check()

    assert "all is ok" in report and "failing, lightcurve" in report


@pytest.mark.django_db
def test_an_instrument_from_DISPATCHER_NB2W_BACKENDS_validates_and_runs_a_request(nb2w_url, settings):
    from instruments.registry import instrument_get
    from jobs.interfaces.oda.metadata import meta_data_render

    settings.NB2W_BACKENDS = {"nb2w-env": nb2w_url}
    settings.INSTRUMENTS_CACHE_TTL_S = 0
    handle = instrument_get("nb2w-env")
    label = unique_label()

    validated = handle.validate("lightcurve", {"src_name": "Vela", "T1": "2020-01-01", "label": label})
    request = RunRequest(job_id="j", instrument="nb2w-env", product_type="lightcurve", params=validated.params)
    outcome = poll_until_done(handle.adapter, request, handle.adapter.run(request))[-1]

    assert validated.params["T_format"] == "isot" and validated.params["RA"] == 83.633
    (listing,) = meta_data_render(handle.describe(), product_type="lightcurve")
    source_query = listing[2]
    assert source_query[0] == {"query_name": "src_query"}
    names = [entry["name"] for entry in source_query if "name" in entry]
    assert names == ["src_name", "RA", "DEC", "T1", "T2", "T_format", "token"]
    summary = next(t["value"] for t in outcome.products.text_product_list if t["name"] == "summary")
    assert summary.startswith(f"{label}: Vela at RA=83.633 Dec=22.014 from 2020-01-01T00:00:00.000 to ")
