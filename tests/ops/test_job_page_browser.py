"""The job page in a real headless Chromium against the live service.

It must show a running job, then turn done by itself (no reload) when the job
finishes, with its product download; a light curve is then drawn with BokehJS
served by the dispatcher itself (a canvas, no console error), tables sort, pictures
show; its Copy button puts the api_code on the clipboard, or selects it where the
clipboard is refused; a forged or expired link is refused (403).
"""

from __future__ import annotations

import base64
import os
import shutil
import time
from pathlib import Path
from unittest import mock

import pytest
import requests

from instruments.base import Products
from jobs.products import products_remove
from jobs.services import job_get_or_create, job_move
from jobs.services.records import job_report_progress
from jobs.services.running import job_finish
from jobs.signing import LINK_PARAM, job_link_sign, job_page_path
from jobs.states import Status
from tests.conftest import ALICE

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian chromium is not installed (/usr/bin/chromium): run `make browser` "
        "(apt-get install chromium chromium-driver); `make test` does it first",
    ),
]


@pytest.fixture(autouse=True)
def _products_apart():
    """Overrides the conftest's: the live service must find the products where it looks (DATA_DIR)."""


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must not try to download anything
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()
    shutil.rmtree(tmp_path / "profile", ignore_errors=True)


@pytest.fixture
def running_job():
    job, _ = job_get_or_create(
        owner=ALICE, instrument="empty", product_type="echo", params={"browser": time.time()}, claims={}
    )
    job_move(job_id=job.job_id, to=Status.PROGRESS, message="backend started")
    job_report_progress(job_id=job.job_id, message="halfway there", data={"progress": 1, "progress_max": 2})
    yield job
    products_remove(job.job_id)


def wait_for(driver, script: str, expected, timeout_s: float = 15.0):
    deadline = time.monotonic() + timeout_s
    value = None
    while time.monotonic() < deadline:
        value = driver.execute_script(script)
        if value == expected:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{script!r} gave {value!r}, expected {expected!r}")


STATUS = "return document.getElementById('job-status').dataset.status"
TIMELINE = "return Array.from(document.querySelectorAll('#timeline li')).map(li => li.textContent)"


def test_a_running_job_turns_done_without_a_reload(live_service, browser, running_job):
    url = f"{live_service.url}{job_page_path(running_job.job_id)}?{LINK_PARAM}={job_link_sign(running_job.job_id)}"
    browser.get(url)
    assert wait_for(browser, STATUS, "progress")
    assert any("halfway there (1/2)" in item for item in browser.execute_script(TIMELINE))
    assert "disp.get_product(" in browser.find_element("id", "api-code").text
    browser.execute_script("window.stillTheSamePage = true")

    job_finish(job_id=running_job.job_id, products=Products(files={"result.txt": b"42\n"}, comment="well done"))

    wait_for(browser, STATUS, "done")
    assert browser.execute_script("return window.stillTheSamePage") is True  # no reload happened
    assert any("well done" in item for item in browser.execute_script(TIMELINE))
    links = browser.find_elements("css selector", "#products a.download")
    assert [link.text for link in links] == ["result.txt"]
    download = requests.get(links[0].get_attribute("href"), timeout=10)
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].endswith('result.txt.gz"')


API_CODE = "return document.getElementById('api-code').textContent"
CLIPBOARD = "const done = arguments[0]; navigator.clipboard.readText().then(done, (e) => done('refused: ' + e))"
CLIPBOARD_SET = "const done = arguments[1]; navigator.clipboard.writeText(arguments[0]).then(() => done('set'), done)"
SELECTION = "return window.getSelection().toString()"


def clipboard_allow(driver, origin: str, *, allowed: bool) -> None:
    """Decide the page's clipboard permission, instead of leaving it to the browser's defaults."""
    setting = "granted" if allowed else "denied"
    for name in ("clipboard-write", "clipboard-read"):
        driver.execute_cdp_cmd(
            "Browser.setPermission", {"permission": {"name": name}, "setting": setting, "origin": origin}
        )


def test_the_copy_button_copies_the_snippet_when_the_clipboard_is_allowed(live_service, browser, running_job):
    clipboard_allow(browser, live_service.url, allowed=True)
    browser.get(
        f"{live_service.url}{job_page_path(running_job.job_id)}?{LINK_PARAM}={job_link_sign(running_job.job_id)}"
    )
    snippet = browser.execute_script(API_CODE)
    assert "disp.get_product(" in snippet
    assert browser.execute_async_script(CLIPBOARD_SET, "something else") == "set"
    browser.find_element("id", "copy-api-code").click()
    assert wait_for_text(browser, "copy-result") == "Copied."
    assert browser.execute_async_script(CLIPBOARD) == snippet


def test_the_copy_button_selects_the_snippet_when_the_clipboard_is_refused(live_service, browser, running_job):
    clipboard_allow(browser, live_service.url, allowed=False)
    browser.get(
        f"{live_service.url}{job_page_path(running_job.job_id)}?{LINK_PARAM}={job_link_sign(running_job.job_id)}"
    )
    snippet = browser.execute_script(API_CODE)
    assert browser.execute_script(SELECTION) == ""
    browser.find_element("id", "copy-api-code").click()
    assert wait_for_text(browser, "copy-result") == "Selected: press Ctrl+C to copy."
    # The selection of a <pre> leaves out its last line break, which no one copies anyway.
    assert browser.execute_script(SELECTION) == snippet.rstrip("\n")


def wait_for_text(driver, element_id: str, timeout_s: float = 5.0) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        text = driver.find_element("id", element_id).text
        if text:
            return text
        time.sleep(0.1)
    raise AssertionError(f"#{element_id} stayed empty")


@pytest.mark.parametrize("kind", ["forged", "expired"])
def test_a_forged_or_expired_link_is_refused(live_service, browser, running_job, kind):
    if kind == "forged":
        link = job_link_sign(running_job.job_id)[:-4] + "AAAA"
    else:
        # Signed 31 days ago: older than DISPATCHER_JOB_LINK_MAX_AGE_S (30 days by default).
        with mock.patch("django.core.signing.time.time", return_value=time.time() - 31 * 24 * 3600):
            link = job_link_sign(running_job.job_id)
    url = f"{live_service.url}{job_page_path(running_job.job_id)}?{LINK_PARAM}={link}"

    assert requests.get(url, timeout=10).status_code == 403
    state = requests.get(url.replace("/?", "/state.json?"), timeout=10)
    assert state.status_code == 403
    browser.get(url)
    refused = browser.find_element("id", "refused")
    assert refused.get_attribute("data-status") == "403"
    assert "link" in refused.text.lower()
    assert browser.find_elements("id", "job-status") == []


# --- the products drawn -------------------------------------------------------------------

CANVASES = """
function count(root) {
  let n = root.querySelectorAll('canvas').length;
  root.querySelectorAll('*').forEach(function (el) { if (el.shadowRoot) n += count(el.shadowRoot); });
  return n;
}
const box = document.querySelector('#drawings .drawing[data-product="' + arguments[0] + '"]');
return box ? count(box) : -1;
"""
RESOURCES = "return performance.getEntriesByType('resource').map(entry => entry.name)"


def console_errors(driver) -> list[dict]:
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


@pytest.fixture
def running_lightcurve():
    from tests.lightcurves import PARAMS

    job, _ = job_get_or_create(owner=ALICE, instrument="demo-lightcurve", product_type="lightcurve",
                               params={**PARAMS, "browser": time.time()}, claims={})  # fmt: skip
    job_move(job_id=job.job_id, to=Status.PROGRESS, message="backend started")
    yield job
    products_remove(job.job_id)


def test_a_light_curve_is_drawn_with_bokeh_when_the_job_ends(live_service, browser, running_lightcurve):
    from tests.lightcurves import demo_lightcurve_products

    job = running_lightcurve
    browser.get(f"{live_service.url}{job_page_path(job.job_id)}?{LINK_PARAM}={job_link_sign(job.job_id)}")
    assert wait_for(browser, STATUS, "progress")
    assert browser.execute_script(CANVASES, "lightcurve") == -1  # nothing drawn while it runs

    job_finish(job_id=job.job_id, products=demo_lightcurve_products())

    wait_for(browser, STATUS, "done")
    deadline = time.monotonic() + 20
    while browser.execute_script(CANVASES, "lightcurve") < 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert browser.execute_script(CANVASES, "lightcurve") >= 1  # BokehJS rendered the plot
    # One product (numpy light curve and ECSV table of one name): one drawing, the file offered too.
    assert browser.execute_script("return document.querySelectorAll('#drawings .drawing').length") == 1
    assert [link.text for link in browser.find_elements("css selector", "#products a.download")] == ["lightcurve.ecsv"]
    # BokehJS came from the dispatcher itself, in the version the plots were made for: the page works offline.
    scripts = [name for name in browser.execute_script(RESOURCES) if "bokeh" in name]
    assert scripts == [f"{live_service.url}/static/bokeh/3.1.1/bokeh.min.js"]
    assert console_errors(browser) == []


def test_tables_sort_pictures_show_and_texts_are_preformatted(live_service, browser, running_job):
    from jobs.previews import preview_render
    from tests.lightcurves import demo_lightcurve_products

    lightcurve = demo_lightcurve_products()
    picture = preview_render(lightcurve.as_protocol())
    table = {"name": "counts table", "meta_data": {}, "ascii": lightcurve.files["lightcurve.ecsv"].decode()}
    image = {"name": "picture", "img_type": "png", "b64data": base64.b64encode(picture).decode()}
    products = Products(astropy_table_product_ascii_list=[table], binary_image_product_list=[image],
                        text_product_list=[{"name": "summary", "value": "<b>76 bins</b>"}])  # fmt: skip
    job_finish(job_id=running_job.job_id, products=products)
    browser.get(
        f"{live_service.url}{job_page_path(running_job.job_id)}?{LINK_PARAM}={job_link_sign(running_job.job_id)}"
    )
    wait_for(browser, STATUS, "done")

    rows = "return Array.from(document.querySelectorAll('#drawings table tbody tr')).map(r => r.cells[2].textContent)"
    counts = [int(value) for value in browser.execute_script(rows)]
    assert len(counts) == 76 and counts != sorted(counts)
    assert browser.find_element("css selector", "#drawings .table-rows").text == "76 rows."
    header = browser.find_elements("css selector", "#drawings table thead th")[2]
    assert header.text.startswith("COUNTS")
    header.click()
    assert [int(value) for value in browser.execute_script(rows)] == sorted(counts)
    header.click()
    assert [int(value) for value in browser.execute_script(rows)] == sorted(counts, reverse=True)

    size = "const i = document.querySelector('#drawings img'); return [i.complete, i.naturalWidth, i.naturalHeight]"
    assert browser.execute_script(size) == [True, 600, 400]
    assert browser.find_element("css selector", "#drawings pre").text == "<b>76 bins</b>"  # shown, not markup
    assert console_errors(browser) == []
