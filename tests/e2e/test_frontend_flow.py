# ruff: noqa: F811  (the fixtures imported below are used as arguments, as pytest does)
"""The web frontend's flow against the live service, as its JavaScript does it.

A multipart POST with query_status=new, session_id=new, job_id=''; polls that
re-send every field plus job_id, session_id and query_status from the last answer;
then the Download link the page builds from file_name and download_file_name.
For demo-lightcurve, for an nb2workflow backend (tests/notebooks/lightcurve: a
numpy series, a picture, a table, text) and for a failing notebook. Then a page
of our own inserts each drawing's script and div the way the frontend does
(jQuery append) in Debian's chromium, with BokehJS loaded, and the Bokeh plots
must render: a canvas in each plot, no console error.
"""

from __future__ import annotations

import gzip
import json
import shutil
import time
import uuid
from pathlib import Path

import pytest
import requests

from dispatcher_site.tokens import token_issue
from tests.conftest import free_port
from tests.live import LiveService
from tests.nb2w_server import nb2w_service, nb2w_url  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

POLL_S = 0.3  # the page waits 5 s; the flow is the same
DEADLINE_S = 90
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SITE = Path(__file__).resolve().parents[2] / ".venv" / "lib"


@pytest.fixture(scope="module")
def service(django_db_setup, django_db_blocker, nb2w_url, tmp_path_factory):
    """The live service, with the nb2workflow backend installed as instrument "nb2w"."""
    with django_db_blocker.unblock():
        live = LiveService(
            free_port(),
            tmp_path_factory.mktemp("frontend") / "service.log",
            extra_env={"DISPATCHER_NB2W_BACKENDS": f"nb2w={nb2w_url}"},
        ).start()
    yield live
    live.stop()


def multipart(fields: dict[str, str]) -> dict[str, tuple[None, str]]:
    """Fields as the page's FormData sends them: multipart parts without file names."""
    return {name: (None, value) for name, value in fields.items()}


def frontend_flow(url: str, form: dict[str, str]) -> dict:
    """Submit and poll as mmoda.instrument.js does; the last answer (done, or failed after the retries)."""
    run = f"{url}/dispatch-data/run_analysis"
    answer = requests.post(run, files=multipart({**form, "query_status": "new", "session_id": "new", "job_id": ""}),
                           timeout=30).json()  # fmt: skip
    failed_attempts, deadline = 0, time.monotonic() + DEADLINE_S
    while True:
        assert {"job_monitor", "exit_status", "products", "session_id"} <= set(answer), answer
        if answer["query_status"] == "failed":
            failed_attempts += 1
            if failed_attempts > 2:  # the page retries a few times with query_status=failed
                return answer
        elif answer["query_status"] == "done":
            return answer
        assert time.monotonic() < deadline, answer
        assert "full_report_dict" in answer["job_monitor"]  # the progress bar's source
        time.sleep(POLL_S)
        poll = {**form, "job_id": answer["job_monitor"]["job_id"], "session_id": answer["session_id"],
                "query_status": answer["query_status"]}  # fmt: skip
        answer = requests.post(run, files=multipart(poll), timeout=30).json()


def download_link(url: str, answer: dict, instrument: str, token: str | None = None) -> requests.Response:
    """The page's Download button: file_name joined, download_file_name, query_status=ready."""
    products = answer["products"]
    params = {"session_id": answer["session_id"], "download_file_name": products["download_file_name"],
              "file_list": ",".join(products["file_name"]), "query_status": "ready",
              "job_id": answer["job_monitor"]["job_id"], "instrument": instrument,
              **({"token": token} if token else {})}  # fmt: skip
    return requests.get(f"{url}/dispatch-data/download_products", params=params, timeout=30)


def drawings_of(answer: dict) -> list[dict]:
    image = answer["products"]["image"]
    return [entry["image"] for entry in (image if isinstance(image, list) else [image])]


def test_demo_lightcurve_through_the_frontends_flow(service):
    token = token_issue(email="frontend@example.org", roles=["general"])
    form = {"instrument": "demo-lightcurve", "product_type": "lightcurve", "query_type": "Real", "src_name": "Crab",
            "RA": "83.63", "DEC": "22.01", "T1": "2017-03-06T13:26:48.000", "T2": "2017-03-06T15:32:27.000",
            "T_format": "isot", "time_bin": "300", "token": token}  # fmt: skip

    answer = frontend_flow(service.url, form)

    assert answer["query_status"] == "done", answer["exit_status"]
    assert answer["products"]["name"] == ["lightcurve"]
    (drawing,) = drawings_of(answer)
    assert "Bokeh.safely" in drawing["script"]
    download = download_link(service.url, answer, "demo-lightcurve", token)
    assert download.status_code == 200
    assert download.headers["Content-Disposition"] == 'attachment; filename="lightcurve.ecsv.gz"'
    assert gzip.decompress(download.content).startswith(b"# %ECSV")
    test_demo_lightcurve_through_the_frontends_flow.answer = answer  # drawn in the browser below


def test_an_nb2workflow_backend_through_the_frontends_flow(service):
    form = {"instrument": "nb2w", "product_type": "lightcurve", "query_type": "Real", "src_name": "Crab",
            "n_bins": "6", "label": f"fe-{uuid.uuid4().hex[:8]}"}  # fmt: skip

    answer = frontend_flow(service.url, form)

    assert answer["query_status"] == "done", answer["exit_status"]
    products = answer["products"]
    assert products["name"] == ["spectrum", "picture", "plot_file", "counts table", "summary", "total"]
    spectrum, picture, plot_file, table, summary, total = drawings_of(answer)
    assert "Bokeh.safely" in spectrum["script"]
    assert picture["div"].startswith('<img src="data:image/png;base64,')
    assert plot_file["div"].startswith('<img src="data:image/png;base64,')
    assert "<th>counts</th>" in table["div"] and summary["div"].startswith("<pre>") and total["div"].startswith("<pre>")
    assert products["download_file_name"] == "lightcurve.tar.gz" and "counts.png" in products["file_name"]
    download = download_link(service.url, answer, "nb2w")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"] == 'attachment; filename="lightcurve.tar.gz"'

    # The "Return progress" link: the notebook's trace page from the backend.
    marked = requests.get(f"{service.url}/api/meta-data", params={"instrument": "nb2w"}, timeout=30).json()
    assert marked[0][0]["support_return_progress"] is True
    progress = requests.post(
        f"{service.url}/dispatch-data/run_analysis",
        files=multipart({**form, "query_status": "new", "return_progress": "True",
                         "job_id": answer["job_monitor"]["job_id"], "session_id": answer["session_id"]}),
        timeout=30,
    ).json()  # fmt: skip
    (page,) = progress["products"]["progress_product_html_output"]
    assert "<html" in page and "n_bins" in page
    test_an_nb2workflow_backend_through_the_frontends_flow.answer = answer


def test_a_failing_product_through_the_frontends_flow(service):
    form = {"instrument": "nb2w", "product_type": "failing", "query_type": "Real",
            "reason": f"detector off {uuid.uuid4().hex[:6]}"}  # fmt: skip

    answer = frontend_flow(service.url, form)

    assert answer["query_status"] == "failed"
    assert answer["exit_status"]["status"] == 1
    assert "detector off" in answer["exit_status"]["message"] and answer["exit_status"]["error_message"]
    assert "image" not in answer["products"]


# --- the drawings in a browser ------------------------------------------------------------

PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8">
<script src="jquery.min.js"></script><script src="bokeh.min.js"></script>
</head><body><div id="panels"></div>
<script>
  // As mmoda.instrument.js shows a product: $(panel).append(image.image.script + image.image.div)
  const drawings = %s;
  drawings.forEach(function (drawing, i) {
    const panel = $('<div class="panel-body">').attr('id', 'panel-' + i).appendTo('#panels');
    panel.append(drawing.script + drawing.div);
  });
</script></body></html>
"""

CANVASES = """
function count(root) {
  let n = root.querySelectorAll('canvas').length;
  root.querySelectorAll('*').forEach(function (el) { if (el.shadowRoot) n += count(el.shadowRoot); });
  return n;
}
return Array.from(document.querySelectorAll('.panel-body')).map(count);
"""


@pytest.fixture
def browser(tmp_path):
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (/usr/bin/chromium): `make browser`")
    import os

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--allow-file-access-from-files",
                 "--disable-background-networking", f"--user-data-dir={tmp_path / 'profile'}"):  # fmt: skip
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    yield driver
    driver.quit()


def shown_in_a_page(tmp_path: Path, drawings: list[dict]) -> Path:
    """A page of ours with the frontend's libraries (jQuery, BokehJS 3.1.1), all local: no network."""
    import bokeh
    import django

    shutil.copy(Path(bokeh.__file__).parent / "server/static/js/bokeh.min.js", tmp_path / "bokeh.min.js")
    jquery = Path(django.__file__).parent / "contrib/admin/static/admin/js/vendor/jquery/jquery.min.js"
    shutil.copy(jquery, tmp_path / "jquery.min.js")
    page = tmp_path / "page.html"
    page.write_text(PAGE % json.dumps(drawings).replace("</", "<\\/"))
    return page


def test_the_drawings_render_in_a_browser_as_the_frontend_inserts_them(service, browser, tmp_path):
    answers = [
        getattr(test, "answer", None)
        for test in (
            test_demo_lightcurve_through_the_frontends_flow,
            test_an_nb2workflow_backend_through_the_frontends_flow,
        )
    ]
    if None in answers:
        pytest.skip("runs after the flows above, which give it their answers")
    drawings = [drawing for answer in answers for drawing in drawings_of(answer)]
    plots = [i for i, drawing in enumerate(drawings) if "Bokeh.safely" in drawing["script"]]
    assert len(plots) == 2

    browser.get(shown_in_a_page(tmp_path, drawings).as_uri())

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        canvases = browser.execute_script(CANVASES)
        if all(canvases[i] > 0 for i in plots):
            break
        time.sleep(0.2)
    assert all(canvases[i] > 0 for i in plots), canvases
    images = browser.execute_script("return Array.from(document.querySelectorAll('.panel-body img')).map("
                                    "i => i.complete && i.naturalWidth > 0)")  # fmt: skip
    assert images == [True, True]  # the notebook's two pictures decoded
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert not errors, errors
