"""The admin in a real headless Chromium against the live service, as staff meet it.

A job's page only shows (no Save button, no "why it failed" under a done job); job
events and the bot's state have no Add; the jobs list fits a 1400 px window with its
duration column; the "Job page" link opens the job for the logged-in staff member;
django-q2's schedules are the named upkeep ones only, after a job ran through the queue.
"""

from __future__ import annotations

import time

import pytest
import requests
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from jobs.products import products_remove
from tests.conftest import ALICE
from tests.ops.test_job_page_browser import CHROMIUM, browser, wait_for  # noqa: F401 -- the fixture

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed: run `make browser`"),
]
PASSWORD = "staff-password-42"
LONG_OWNER = "a.very-long-name.of-an-astronomer@observatory.example.org"


@pytest.fixture(autouse=True)
def _products_apart():
    """Overrides the conftest's: the live service must find the products where it looks (DATA_DIR)."""


@pytest.fixture
def staff_browser(live_service, browser):  # noqa: F811 -- the browser fixture
    staff = get_user_model().objects.create_superuser("staff", "staff@example.org", PASSWORD)
    # The live service checks passwords with its own (default) hasher, not the tests' fast one.
    staff.password = PBKDF2PasswordHasher().encode(PASSWORD, PBKDF2PasswordHasher().salt())
    staff.save(update_fields=["password"])
    browser.set_window_size(1400, 900)
    browser.get(f"{live_service.url}/admin/login/?next=/admin/")
    browser.find_element("id", "id_username").send_keys("staff")
    browser.find_element("id", "id_password").send_keys(PASSWORD)
    browser.find_element("css selector", "input[type=submit]").click()
    wait_for(browser, "return document.body.classList.contains('dashboard')", True)
    return browser


@pytest.fixture
def finished_jobs(make_job):
    from jobs.states import Status

    jobs = [make_job(owner=LONG_OWNER, params={"src_name": f"source {n}"}) for n in range(3)]
    jobs.append(make_job(owner=ALICE, status=Status.FAILED))
    jobs.append(make_job(owner=ALICE, instrument="empty-async-return-progress", product="dummy", status=Status.FAILED))
    yield jobs
    for job in jobs:
        products_remove(job.job_id)


def test_the_jobs_list_fits_1400_px_with_its_duration_column(live_service, staff_browser, finished_jobs):
    staff_browser.get(f"{live_service.url}/admin/jobs/job/")
    width = staff_browser.execute_script("return document.documentElement.clientWidth")
    scrolled = staff_browser.execute_script("return document.documentElement.scrollWidth")
    assert scrolled <= width, f"the page scrolls sideways: {scrolled} > {width}"
    header = staff_browser.find_element("css selector", "th.column-duration")
    right = staff_browser.execute_script("return arguments[0].getBoundingClientRect().right", header)
    assert right <= width
    table = staff_browser.find_element("id", "result_list")
    box = staff_browser.execute_script(
        "const t = arguments[0], c = t.parentElement; return [t.scrollWidth, c.clientWidth]", table
    )
    columns = staff_browser.execute_script(
        "return Array.from(document.querySelectorAll('#result_list thead th'))"
        ".map(th => [th.className, th.offsetWidth])"
    )
    assert box[0] <= box[1], f"the table is wider than its box: {box}, columns {columns}"


def test_a_jobs_page_only_shows_and_its_job_page_link_opens_for_staff(live_service, staff_browser, finished_jobs):
    done = finished_jobs[0]
    staff_browser.get(f"{live_service.url}/admin/jobs/job/{done.pk}/change/")
    page = staff_browser.page_source
    assert "source 0" in page
    assert staff_browser.find_elements("css selector", "input[name=_save], input[name=_continue]") == []
    assert "Why the job failed" not in page
    staff_browser.find_element("link text", f"/jobs/{done.job_id}/").click()
    assert wait_for(staff_browser, "return document.getElementById('job-status').dataset.status", "done")
    # The page is read-only for staff too: a POST to it is refused.
    session = {"sessionid": staff_browser.get_cookie("sessionid")["value"]}
    change = f"{live_service.url}/admin/jobs/job/{done.pk}/change/"
    csrf = staff_browser.get_cookie("csrftoken")["value"]
    posted = requests.post(
        change, cookies={**session, "csrftoken": csrf}, data={"csrfmiddlewaretoken": csrf}, headers={"Referer": change}
    )
    assert posted.status_code == 403


@pytest.mark.parametrize("model", ["jobs/jobevent", "notifications/botstate"])
def test_job_events_and_bot_states_have_no_add(live_service, staff_browser, finished_jobs, model):
    staff_browser.get(f"{live_service.url}/admin/{model}/")
    assert staff_browser.find_elements("css selector", f'a[href="/admin/{model}/add/"]') == []
    staff_browser.get(f"{live_service.url}/admin/")
    assert staff_browser.find_elements("css selector", f'a[href="/admin/{model}/add/"]') == []
    staff_browser.get(f"{live_service.url}/admin/{model}/add/")
    assert "403" in staff_browser.title or "Forbidden" in staff_browser.page_source


def test_the_schedules_are_the_named_upkeep_only_after_a_job_polled(live_service, staff_browser, alice):
    answer = requests.get(
        f"{live_service.url}/run_analysis",
        params={
            "instrument": "empty-async",
            "product_type": "dummy",
            "query_status": "new",
            "token": alice,
            "src_name": f"browser {time.time()}",
        },
        timeout=10,
    ).json()
    job_id = answer["job_monitor"]["job_id"]
    deadline = time.monotonic() + 60
    while answer["query_status"] != "done" and time.monotonic() < deadline:
        time.sleep(0.5)
        answer = requests.get(
            f"{live_service.url}/run_analysis",
            params={
                "instrument": "empty-async",
                "product_type": "dummy",
                "query_status": "submitted",
                "job_id": job_id,
                "token": alice,
            },
            timeout=10,
        ).json()
    assert answer["query_status"] == "done"
    staff_browser.get(f"{live_service.url}/admin/django_q/schedule/")
    names = [cell.text for cell in staff_browser.find_elements("css selector", "#result_list tbody td.field-name")]
    assert sorted(names) == ["jobs: fail stale jobs", "jobs: purge old jobs"]
