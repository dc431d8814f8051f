import json
import math
import time

import numpy as np
import pytest

from instruments.base import AdapterError, RunRequest
from instruments.registry import instrument_get

pytestmark = pytest.mark.django_db


def run(instrument: str, product: str, raw: dict | None = None, **request):
    handle = instrument_get(instrument)
    params = handle.validate(product, raw or {}).params
    base = RunRequest(job_id="job-1", instrument=instrument, product_type=product, params=params, **request)
    return handle, base, handle.adapter.run(base)


def protocol_lists(products) -> set[str]:
    return {name for name in products.PROTOCOL_LISTS if getattr(products, name)}


def decoded_image(entry: dict) -> np.ndarray:
    (unit,) = entry["data_unit_list"]
    return np.array(json.loads(unit["data"]), dtype=np.dtype(unit["dt"]))


def test_empty_dummy_answers_at_once_without_products():
    # As the earlier dispatcher's: `oda-api get` prints every product's data units, a text product has none.
    _, _, outcome = run("empty", "dummy", query_type="Dummy")
    assert outcome.state == "done"
    assert protocol_lists(outcome.products) == set()
    assert outcome.products.as_protocol() == {"prod_process_message": ""}


def test_empty_echo_returns_the_normalized_parameters():
    _, request, outcome = run("empty", "echo", {"T1": "57818.5", "T_format": "mjd", "src_name": " Crab "})
    answer = outcome.products.as_protocol()
    assert answer["echo"] == dict(request.params)
    assert answer["echo"]["T1"] == "2017-03-06T12:00:00.000" and answer["echo"]["src_name"] == "Crab"
    assert protocol_lists(outcome.products) == set()


def test_empty_echo_converts_the_energy_from_its_units_parameter():
    _, _, outcome = run("empty", "echo", {"energ": "2", "energy_units": "GeV", "ang": "36"})
    echoed = outcome.products.extra["echo"]
    assert echoed["energ"] == 2e6 and echoed["energy_units"] == "keV"
    assert echoed["ang"] == pytest.approx(0.01)  # 36 arcsec, in degrees


@pytest.mark.parametrize("product", ["restricted", "structured", "optional"])
def test_the_echoing_products_echo_their_own_defaults(product):
    handle, _, outcome = run("empty", product)
    echoed = outcome.products.extra["echo"]
    for parameter in handle.products()[product].parameters:
        assert echoed[parameter.name] == parameter.default
    assert outcome.state == "done"


def test_empty_numerical_gives_an_image_of_zeros():
    _, _, outcome = run("empty", "numerical", {"p": "42"})
    (image,) = outcome.products.numpy_data_product_list
    assert image["meta_data"]["product"] == "mosaic"
    assert image["meta_data"]["query_parameters"] == [{"name": "p", "value": 42.0}]
    pixels = decoded_image(image)
    assert pixels.shape == (100, 100) and not pixels.any()
    assert protocol_lists(outcome.products) == {"numpy_data_product_list"}


def test_file_dummy_gives_the_image_and_a_file_naming_its_reference():
    _, _, outcome = run("empty", "file_dummy", {"dummy_file": "https://example.org/data.fits"})
    assert decoded_image(outcome.products.numpy_data_product_list[0]).shape == (100, 100)
    assert b"https://example.org/data.fits" in outcome.products.files["file_dummy.txt"]
    _, _, posix = run("empty-with-posix-path", "file_dummy", {"dummy_POSIX_file": "/data/in.fits"})
    assert b"/data/in.fits" in posix.products.files["file_dummy.txt"]


def test_parametrical_takes_its_energy_boundary_and_gives_nothing():
    _, request, outcome = run("empty", "parametrical", {"sb": "20 keV"})
    assert request.params["sb"] == 20.0
    assert protocol_lists(outcome.products) == set()


def test_empty_with_conf_shows_its_configured_products_url():
    from instruments.registry.configs import InstrumentConfig
    from instruments.registry.handles import handle_build

    handle = handle_build(
        InstrumentConfig(name="conf", kind="empty-with-conf", settings={"products_url": "https://x.example/mmoda"})
    )
    request = RunRequest(job_id="j", instrument="conf", product_type="dummy", params={})
    assert handle.adapter.run(request).products.comment == "dataserver products url: https://x.example/mmoda"


def test_empty_development_offers_the_earlier_five_products():
    assert list(instrument_get("empty-development").products()) == [
        "dummy", "numerical", "failing", "parametrical", "echo"
    ]  # fmt: skip


def test_empty_failing_raises_a_clear_adapter_error():
    with pytest.raises(AdapterError) as caught:
        run("empty", "failing")
    assert caught.value.message.startswith("The product 'failing' of instrument empty always fails")
    assert caught.value.retryable is False


def test_semi_async_is_done_at_once_when_p_is_not_positive():
    _, _, outcome = run("empty-semi-async", "dummy", {"p": "0"})
    assert outcome.state == "done" and outcome.products is not None


def test_semi_async_is_done_after_p_seconds_by_polling():
    handle, request, outcome = run("empty-semi-async", "dummy", {"p": "0.4"})
    assert outcome.state == "progress" and 0 < outcome.poll_after_s <= 0.4
    later = RunRequest(**{**request.__dict__, "backend_ref": outcome.backend_ref})
    assert handle.adapter.poll(later).state == "progress"
    time.sleep(0.45)
    done = handle.adapter.poll(later)
    assert done.state == "done" and done.products is not None


def test_semi_async_fails_for_p_minus_one():
    with pytest.raises(AdapterError, match="p = -1"):
        run("empty-semi-async", "dummy", {"p": "-1"})


def test_semi_async_numerical_gives_the_image_at_once():
    _, _, outcome = run("empty-semi-async", "numerical")
    assert outcome.state == "done" and decoded_image(outcome.products.numpy_data_product_list[0]).shape == (100, 100)


def test_async_without_a_callback_url_fails_clearly():
    with pytest.raises(AdapterError, match="needs a call-back URL"):
        run("empty-async", "dummy")


# --- demo-lightcurve -------------------------------------------------------------

CRAB = {"src_name": "Crab", "RA": "83.6331", "DEC": "22.0145", "T1": "2020-01-01T00:00:00", "T2": "2020-01-01T01:00:00"}


def lightcurve(**overrides):
    _, request, outcome = run("demo-lightcurve", "lightcurve", {**CRAB, "time_bin": "70", **overrides})
    return request, outcome


def decoded_rows(outcome) -> np.ndarray:
    (unit,) = outcome.products.numpy_data_product_list[0]["data_unit_list"]
    # As the client does: evaluate the text, then build the array with `dt`.
    rows = [tuple(row) for row in json.loads(unit["data"])]
    return np.array(rows, dtype=np.dtype(eval(unit["dt"])))  # noqa: S307 (our own dtype text, as oda-api reads it)


def test_lightcurve_has_the_protocol_shape():
    _, outcome = lightcurve()
    products = outcome.products.as_protocol()
    (numpy_product,) = products["numpy_data_product_list"]
    assert numpy_product["name"] == "lightcurve"
    (unit,) = numpy_product["data_unit_list"]
    assert set(unit) == {"name", "hdu_type", "header", "meta_data", "units_dict", "binarys", "data", "dt"}
    assert unit["hdu_type"] == "bintable" and unit["binarys"] is None
    assert unit["units_dict"]["RATE"] == "ct / s"
    assert products["file_list"] == ["lightcurve.ecsv"]
    assert "astropy_table_product_ascii_list" not in products, "oda-api's CLI cannot print a table product"
    # The whole answer is plain JSON, without NaN, and without the word null in values.
    text = json.dumps(products, allow_nan=False)
    assert "null" not in text.replace('"binarys": null', "")


def test_lightcurve_bins_and_counts_are_consistent():
    _, outcome = lightcurve()
    rows = decoded_rows(outcome)
    assert len(rows) == math.ceil(3600 / 70) == 52
    assert rows["TIMEDEL"][:-1] == pytest.approx(70) and rows["TIMEDEL"][-1] == pytest.approx(3600 - 51 * 70)
    assert rows["TIMEDEL"].sum() == pytest.approx(3600)
    assert rows["TIME"][0] == pytest.approx(58849 + 35 / 86400)  # MJD of the first bin's middle
    assert (np.diff(rows["TIME"]) > 0).all()
    assert rows["COUNTS"].dtype.kind == "i" and (rows["COUNTS"] >= 0).all()
    assert rows["RATE"] == pytest.approx(rows["COUNTS"] / rows["TIMEDEL"])
    # Source rate 2..20 c/s (+1 background) over 3600 s: far from empty, far from absurd.
    assert 3 * 3600 * 0.5 < rows["COUNTS"].sum() < 21 * 3600 * 1.5
    assert outcome.products.comment == f"52 bins, {rows['COUNTS'].sum()} counts"


def test_lightcurve_file_carries_the_same_counts():
    from astropy.table import Table

    _, outcome = lightcurve()
    ecsv = outcome.products.files["lightcurve.ecsv"].decode()
    assert ecsv.startswith("# %ECSV")
    table = Table.read(ecsv, format="ascii.ecsv")
    assert list(table["COUNTS"]) == list(decoded_rows(outcome)["COUNTS"])
    assert str(table["RATE"].unit) == "ct / s"
    assert table.meta["src_name"] == "Crab"


def test_lightcurve_is_deterministic_and_depends_on_the_request():
    counts = decoded_rows(lightcurve()[1])["COUNTS"]
    assert (decoded_rows(lightcurve()[1])["COUNTS"] == counts).all()
    assert not np.array_equal(decoded_rows(lightcurve(src_name="Vela")[1])["COUNTS"], counts)
    # The same instants asked in MJD give the same light curve.
    mjd = lightcurve(T1="58849.0", T2="58849.041666666667", T_format="mjd")[1]
    assert (decoded_rows(mjd)["COUNTS"] == counts).all()


def test_lightcurve_refuses_an_empty_or_huge_range():
    with pytest.raises(AdapterError, match="must be later than T1"):
        lightcurve(T2="2019-12-31T00:00:00")
    with pytest.raises(AdapterError, match="at most 100000"):
        lightcurve(time_bin="1", T2="2020-03-01T00:00:00")


def test_lightcurve_decodes_with_the_oda_api_client():
    data_products = pytest.importorskip("oda_api.data_products")
    _, outcome = lightcurve()
    product = data_products.NumpyDataProduct.decode(outcome.products.numpy_data_product_list[0])
    (unit,) = product.data_unit
    assert list(unit.data["COUNTS"]) == list(decoded_rows(outcome)["COUNTS"])
    assert len(unit.data) == 52
