"""PNG previews of a done job's main product (jobs.previews): drawn once, kept with the products.

And the job page's share of the same drawings: its state lists each product drawn,
and BokehJS is served by the dispatcher itself.
"""

from __future__ import annotations

import base64
import io
import threading
from unittest import mock

import pytest
from matplotlib.image import imread

from instruments.base import Products
from jobs import previews
from jobs.previews import PREVIEW_SIZE_PX, preview_load, preview_make, preview_render
from jobs.products import product_preview_path, products_load, products_remove
from jobs.services import job_get_or_create
from jobs.services.running import job_finish
from jobs.signing import LINK_PARAM, job_link_sign
from tests.conftest import ALICE
from tests.lightcurves import demo_lightcurve_products, done_lightcurve_job

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _products_apart(settings, tmp_path):
    settings.PRODUCTS_DIR = tmp_path / "products"


def pixels(png: bytes):
    return imread(io.BytesIO(png))


def done_job(products: Products):
    job, _ = job_get_or_create(owner=ALICE, instrument="empty", product_type="echo", params={"p": id(products)})
    return job_finish(job_id=job.job_id, products=products)


def test_a_light_curve_preview_is_a_png_of_the_expected_size_kept_with_the_products():
    job = done_lightcurve_job(owner=ALICE)

    preview = preview_make(job)

    assert preview.png.startswith(b"\x89PNG\r\n\x1a\n")
    assert (preview.width, preview.height) == PREVIEW_SIZE_PX
    assert pixels(preview.png).shape[:2] == (PREVIEW_SIZE_PX[1], PREVIEW_SIZE_PX[0])
    assert product_preview_path(job.job_id).read_bytes() == preview.png
    assert product_preview_path(job.job_id).parent.name == job.job_id  # in the job's products folder
    assert preview_load(job) == preview
    products_remove(job.job_id)
    assert preview_load(job) is None  # purged with the products


def test_a_preview_is_drawn_once_and_then_reused(monkeypatch):
    job = done_lightcurve_job(owner=ALICE)
    drawn = []
    real = previews.preview_render
    monkeypatch.setattr(previews, "preview_render", lambda lists: drawn.append(1) or real(lists))

    first = preview_make(job)
    again = preview_make(job)

    assert len(drawn) == 1
    assert again.png == first.png


def test_workers_asking_together_draw_it_once(monkeypatch):
    job = done_lightcurve_job(owner=ALICE)
    products_load(job)  # read here, where the test's transaction sees the job: the threads reuse it
    drawn = []
    real = previews.preview_render
    monkeypatch.setattr(previews, "preview_render", lambda lists: drawn.append(1) or real(lists))
    results = []
    threads = [threading.Thread(target=lambda: results.append(preview_make(job))) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(drawn) == 1
    assert len({result.png for result in results}) == 1


def test_an_image_and_a_picture_have_previews_too():
    image = {"name": "image", "data_unit_list": [{"name": "I", "data": [[0.0, 1.0], [2.0, 3.0]]}]}
    assert pixels(preview_render({"numpy_data_product_list": [image]})).shape[:2] == (400, 600)
    picture = preview_render(demo_lightcurve_products().as_protocol())
    entry = {"name": "counts.png", "img_type": "png", "b64data": base64.b64encode(picture).decode()}
    assert pixels(preview_render({"binary_image_product_list": [entry]})).shape[:2] == (400, 600)


@pytest.mark.parametrize(
    "products",
    [
        Products(),
        Products(files={"result.txt": b"42\n"}, text_product_list=[{"name": "t", "value": "only text"}]),
        Products(binary_image_product_list=[{"name": "broken", "img_type": "png", "b64data": "bm90IGEgcGljdHVyZQ"}]),
        Products(numpy_data_product_list=[{"name": "strings", "data_unit_list": [{"data": '["a", "b"]'}]}]),
    ],
    ids=["nothing", "text-only", "unreadable-picture", "nothing-to-plot"],
)
def test_a_job_without_a_drawable_product_has_no_preview_and_keeps_nothing(products):
    job = done_job(products)
    with mock.patch("matplotlib.figure.Figure.savefig") as savefig:
        assert preview_make(job) is None
    savefig.assert_not_called()
    assert not product_preview_path(job.job_id).exists()


def test_a_job_not_done_has_no_preview():
    job, _ = job_get_or_create(owner=ALICE, instrument="demo-lightcurve", product_type="lightcurve", params={"x": 1})
    assert preview_make(job) is None


def test_a_dollar_in_a_backends_title_is_shown_not_parsed_as_math():
    lists = demo_lightcurve_products().as_protocol()
    lists["numpy_data_product_list"][0]["name"] = "cost in $ and $$ unbalanced $"
    assert preview_render(lists).startswith(b"\x89PNG")


# --- the job page's drawings -----------------------------------------------------------------


def test_the_pages_state_lists_each_product_drawn_once_it_is_done(client):
    job = done_lightcurve_job(owner=ALICE)
    state = client.get(f"/jobs/{job.job_id}/state.json", {LINK_PARAM: job_link_sign(job.job_id)}).json()
    (drawing,) = state["products"]["drawings"]  # numpy data and ECSV table of one name: one product
    assert drawing["name"] == "lightcurve"
    assert "Bokeh.safely" in drawing["script"] and "data-root-id" in drawing["div"]
    page = client.get(f"/jobs/{job.job_id}/", {LINK_PARAM: job_link_sign(job.job_id)}).content.decode()
    assert '<script src="/static/bokeh/3.1.1/bokeh.min.js"></script>' in page


def test_bokehjs_is_served_by_the_dispatcher_in_the_pinned_version(client):
    import bokeh

    response = client.get("/static/bokeh/3.1.1/bokeh.min.js")
    assert response.status_code == 200
    assert bokeh.__version__ == "3.1.1"
    body = b"".join(response.streaming_content)
    assert b'version="3.1.1"' in body or b"3.1.1" in body[:2000]
    assert client.get("/static/bokeh/3.1.1/compiler.js").status_code == 404  # only the bundle pages load
