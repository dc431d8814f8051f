"""What the web frontend reads (../shared/CLIENTS.md section 1), through Django's test client.

Requests without api=True get the frontend's format; oda-api's (api=True) keep the lists.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import pickle
import re
import tarfile

import numpy as np
import pytest

from instruments.base import Products
from jobs import drawings
from jobs.interfaces.oda.frontend import frontend_product_fields
from jobs.models import Job
from jobs.products import products_remove
from jobs.services import job_get_or_create, job_move
from jobs.services.records import job_report_progress
from jobs.services.running import job_finish
from jobs.states import Status
from tests.conftest import ALICE

pytestmark = pytest.mark.django_db(transaction=True)

LIGHTCURVE = {"instrument": "demo-lightcurve", "product_type": "lightcurve", "src_name": "Crab", "time_bin": "600"}
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg==")
ECSV = "# %ECSV 1.0\n# ---\n# datatype:\n# - {name: bin, datatype: int64}\n# schema: astropy-2.0\nbin\n0\n7\n"


def frontend_run(client, **fields):
    """As the frontend's first request: query_status=new, session_id=new, job_id=''."""
    first = {"query_status": "new", "session_id": "new", "job_id": "", **fields}
    return client.post("/dispatch-data/run_analysis", first)


@pytest.fixture
def done_lightcurve(client, tasks_inline):
    answer = frontend_run(client, **LIGHTCURVE).json()
    if answer["query_status"] != "done":
        answer = client.post(
            "/dispatch-data/run_analysis",
            {**LIGHTCURVE, "query_status": answer["query_status"], "job_id": answer["job_monitor"]["job_id"],
             "session_id": answer["session_id"]},
        ).json()  # fmt: skip
    yield answer
    products_remove(answer["job_monitor"]["job_id"])


def test_a_done_light_curve_is_drawn_with_bokeh_and_offered_for_download(done_lightcurve):
    products = done_lightcurve["products"]
    assert done_lightcurve["query_status"] == "done"
    assert products["name"] == ["lightcurve"]
    drawing = products["image"]["image"]  # one product: the object itself
    assert 'data-root-id="' in drawing["div"] and "Bokeh.safely" in drawing["script"]
    assert '"version":"3.1.1"' in drawing["script"]  # the BokehJS the frontend loads
    assert products["file_name"] == ["lightcurve.ecsv"]
    assert products["download_file_name"] == "lightcurve.ecsv.gz"
    assert products["extra_metadata"] == {"lightcurve": {}} and products["prod_uris"] == {"lightcurve": None}
    assert products["prod_process_message"] == "" and products["input_prod_list"] == []
    assert {"analysis_parameters", "api_code", "job_id", "session_id"} <= set(products)
    assert not [key for key in products if key in Products.PROTOCOL_LISTS]


def test_oda_api_gets_its_lists_and_no_drawing(client, done_lightcurve):
    job_id = done_lightcurve["job_monitor"]["job_id"]
    answer = client.get(
        "/run_analysis", {**LIGHTCURVE, "query_status": "done", "job_id": job_id, "session_id": "S" * 16, "api": "True"}
    ).json()
    assert answer["products"]["numpy_data_product_list"][0]["name"] == "lightcurve"
    assert answer["products"]["file_list"] == ["lightcurve.ecsv"]
    assert not {"image", "name", "file_name", "download_file_name"} & set(answer["products"])
    assert "full_report_dict" not in answer["job_monitor"]


def test_session_new_gets_a_session_that_is_echoed_from_then_on(client, done_lightcurve):
    session_id = done_lightcurve["session_id"]
    assert re.fullmatch(r"[A-Z0-9]{16}", session_id)
    assert done_lightcurve["job_monitor"]["session_id"] == done_lightcurve["products"]["session_id"] == session_id
    polled = client.post(
        "/dispatch-data/run_analysis",
        {**LIGHTCURVE, "query_status": "done", "job_id": done_lightcurve["job_monitor"]["job_id"],
         "session_id": session_id},
    ).json()  # fmt: skip
    assert polled["session_id"] == session_id


def test_the_latest_report_drives_the_progress_bar(client):
    job, _ = job_get_or_create(owner="", instrument="empty-async", product_type="dummy", params={"case": "bar"})
    job_move(job_id=job.job_id, to=Status.PROGRESS)
    job_report_progress(job_id=job.job_id, message="first", data={"progress": 1, "progress_max": 4})
    job_report_progress(job_id=job.job_id, message="second", data={"progress": 3, "progress_max": 4})
    answer = client.post("/run_analysis", {"job_id": job.job_id, "query_status": "progress"}).json()
    latest = answer["job_monitor"]["full_report_dict"]
    assert (latest["progress"], latest["progress_max"], latest["message"]) == (3, 4, "second")
    assert len(answer["job_monitor"]["full_report_dict_list"]) == 2


def test_several_products_give_a_list_of_drawings_in_order():
    products = Products(
        numpy_data_product_list=[{"name": "spectrum", "meta_data": {"uri": "http://odahub.io/ontology#Spectrum"},
                                  "data_unit_list": [{"name": "S", "hdu_type": "table", "data": "[[1.0, 5.0], [2, 3]]",
                                                      "dt": "[('ENERGY', '<f8'), ('FLUX', '<f8')]"}]}],
        binary_image_product_list=[{"name": "picture", "b64data": base64.urlsafe_b64encode(PNG).decode(),
                                    "img_type": "png", "metadata": {"label": "A picture"}}],
        astropy_table_product_ascii_list=[{"name": "counts", "meta_data": {}, "ascii": ECSV}],
        text_product_list=[{"name": "summary", "value": "<b>all</b> fine", "meta_data": {}}],
        binary_data_product_list=[{"name": "blob", "data": "AAAA", "md5": "x"}],
        files={"counts.ecsv": b"x", "picture.png": PNG},
    ).as_protocol()  # fmt: skip
    fields = frontend_product_fields(products, product_type="several")
    assert fields["name"] == ["spectrum", "picture", "counts", "summary", "blob"]
    spectrum, picture, table, text, blob = (entry["image"] for entry in fields["image"])
    assert "Bokeh.safely" in spectrum["script"]
    assert picture["div"].startswith('<img src="data:image/png;base64,') and picture["script"] == ""
    assert "<th>bin</th>" in table["div"] and "<td>7</td>" in table["div"]
    assert text["div"] == "<pre>&lt;b&gt;all&lt;/b&gt; fine</pre>"
    assert blob == drawings.NO_PREVIEW
    assert fields["extra_metadata"]["picture"] == {"label": "A picture"}
    assert fields["prod_uris"]["spectrum"] == "http://odahub.io/ontology#Spectrum"
    assert fields["download_file_name"] == "several.tar.gz"


def test_a_pickled_unit_is_drawn_but_a_pickle_naming_anything_else_is_not():
    rows = np.array([(1.0, 2.0, 0.1), (2.0, 3.0, 0.1)], dtype=[("TIME", "<f8"), ("RATE", "<f8"), ("ERROR", "<f8")])
    unit = {"name": "LC", "data": None, "binarys": base64.b64encode(pickle.dumps(rows)).decode()}
    drawn = drawings.numpy_product_drawing({"name": "lc", "data_unit_list": [unit]})
    assert "Bokeh.safely" in drawn["script"]

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    evil = {"name": "E", "data": None, "binarys": base64.b64encode(pickle.dumps(Evil())).decode()}
    assert drawings.unit_data(evil) is None
    assert drawings.numpy_product_drawing({"name": "e", "data_unit_list": [evil]}) == drawings.NO_PREVIEW


@pytest.fixture
def job_with_files():
    job, _ = job_get_or_create(owner=ALICE, instrument="empty", product_type="echo", params={"case": "download"})
    job_finish(job_id=job.job_id, products=Products(files={"a.txt": b"alpha\n", "b.txt": b"beta\n"}))
    yield job
    products_remove(job.job_id)


@pytest.mark.parametrize("method", ["get", "post"])
def test_the_download_link_of_the_frontend_is_served(client, alice, job_with_files, method):
    fields = {"session_id": "S" * 16, "download_file_name": "a.txt.gz", "file_list": "a.txt", "query_status": "ready",
              "job_id": job_with_files.job_id, "instrument": "empty", "token": alice}  # fmt: skip
    response = getattr(client, method)("/dispatch-data/download_products", fields)
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="a.txt.gz"'
    assert gzip.decompress(response.content) == b"alpha\n"


def test_several_files_are_saved_under_the_asked_name(client, alice, job_with_files):
    response = client.get("/download_products", {"job_id": job_with_files.job_id, "file_list": "a.txt,b.txt",
                                                  "download_file_name": "echo.tar.gz", "token": alice})  # fmt: skip
    assert response["Content-Disposition"] == 'attachment; filename="echo.tar.gz"'
    with tarfile.open(fileobj=io.BytesIO(response.content)) as archive:
        assert sorted(archive.getnames()) == ["a.txt", "b.txt"]


def test_return_archive_false_gives_the_file_as_it_is_and_head_answers(client, alice, job_with_files):
    fields = {"job_id": job_with_files.job_id, "file_list": "b.txt", "return_archive": "False", "token": alice}
    response = client.get("/download_products", fields)
    assert response.content == b"beta\n" and response["Content-Type"].startswith("text/plain")
    assert response["Content-Disposition"] == 'attachment; filename="b.txt"'
    head = client.head("/download_products", fields)
    assert head.status_code == 200 and head.content == b""


def test_a_download_name_cannot_inject_a_header(client, alice, job_with_files):
    fields = {"job_id": job_with_files.job_id, "file_list": "a.txt", "token": alice,
              "download_file_name": '../x".gz\r\nSet-Cookie: a=b'}  # fmt: skip
    response = client.get("/download_products", fields)
    assert response["Content-Disposition"] == 'attachment; filename="x_.gz_Set-Cookie_a_b"'


def test_the_outsider_cannot_download_by_post(client, charlie, job_with_files):
    response = client.post("/download_products", {"job_id": job_with_files.job_id, "file_list": "a.txt",
                                                   "token": charlie})  # fmt: skip
    assert response.status_code == 403


class TestRepeatedFields:
    def test_a_list_parameter_sent_several_times_is_a_list(self, client):
        answer = client.post(
            "/run_analysis",
            {"instrument": "empty", "product_type": "echo", "query_status": "new", "p_list": ["a", "b", "c"]},
        ).json()
        assert answer["products"]["analysis_parameters"]["p_list"] == ["a", "b", "c"]
        assert json.loads(json.dumps(Job.objects.get().params))["p_list"] == ["a", "b", "c"]

    def test_a_scalar_parameter_sent_several_times_is_refused(self, client):
        response = client.post(
            "/run_analysis", {"instrument": "empty", "product_type": "echo", "query_status": "new", "ang": ["1", "2"]}
        )
        assert response.status_code == 400
        assert "ang" in response.json()["error_message"] and "2 times" in response.json()["error_message"]
        assert not Job.objects.exists()

    def test_a_protocol_field_sent_twice_is_refused(self, client):
        response = client.get("/run_analysis?instrument=empty&instrument=empty-async&product_type=echo")
        assert response.status_code == 400
        assert "instrument was sent 2 times" in response.json()["error_message"]
