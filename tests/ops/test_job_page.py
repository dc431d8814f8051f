"""The job page's gate: a signed link opens it for its holder; forged, foreign or expired links get 403.

Staff logged in to the admin open any job's page, and only the page: their session acts nowhere else.
"""

from __future__ import annotations

import re
import time
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from jobs.signing import LINK_PARAM, job_link_sign, job_page_path, job_page_url
from jobs.states import Status
from notifications.links import job_link
from notifications.messages import message_for_email

pytestmark = pytest.mark.django_db


def signed(job_id: str, *, age_s: float = 0) -> str:
    with mock.patch("django.core.signing.time.time", return_value=time.time() - age_s):
        return job_link_sign(job_id)


def test_the_owner_opens_the_page_from_the_signed_link_without_logging_in(client, make_job):
    job = make_job()
    page = client.get(job_page_path(job.job_id), {LINK_PARAM: signed(job.job_id)})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-status="done"' in html
    assert "disp.get_product(" in html
    assert 'id="copy-api-code"' in html
    assert f'data-state-url="/jobs/{job.job_id}/state.json?{LINK_PARAM}=' in html
    assert page["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize(
    "link",
    [
        lambda job, other: signed(job.job_id)[:-2] + "xx",  # altered signature
        lambda job, other: signed(other.job_id),  # a link of another job
        lambda job, other: "1:forged",
        lambda job, other: signed(job.job_id, age_s=3600),  # older than the max age below
    ],
    ids=["altered", "other-job", "forged", "expired"],
)
def test_a_bad_link_is_refused_everywhere(client, make_job, settings, link):
    settings.JOB_LINK_MAX_AGE_S = 600
    job, other = make_job(), make_job()
    value = link(job, other)
    page = client.get(job_page_path(job.job_id), {LINK_PARAM: value})
    assert page.status_code == 403
    assert "cannot be shown" in page.content.decode()
    assert client.get(f"/jobs/{job.job_id}/state.json", {LINK_PARAM: value}).status_code == 403
    download = client.get(f"/jobs/{job.job_id}/download", {LINK_PARAM: value, "file_list": "result.txt"})
    assert download.status_code == 403


def test_a_young_enough_link_still_opens(client, make_job, settings):
    settings.JOB_LINK_MAX_AGE_S = 600
    job = make_job()
    assert client.get(job_page_path(job.job_id), {LINK_PARAM: signed(job.job_id, age_s=500)}).status_code == 200


def test_without_a_link_only_the_gate_decides(client, make_job, alice, charlie):
    job = make_job()
    assert client.get(job_page_path(job.job_id)).status_code == 403
    assert client.get(job_page_path(job.job_id), HTTP_AUTHORIZATION=f"Bearer {charlie}").status_code == 403
    assert client.get(job_page_path(job.job_id), HTTP_AUTHORIZATION=f"Bearer {alice}").status_code == 200
    assert client.get(job_page_path("0" * 64), HTTP_AUTHORIZATION=f"Bearer {alice}").status_code == 404


def test_the_state_follows_the_job_and_files_download_with_the_link(client, make_job):
    job = make_job(status=Status.PROGRESS)
    link = signed(job.job_id)
    state = client.get(f"/jobs/{job.job_id}/state.json", {LINK_PARAM: link}).json()
    assert (state["status"], state["is_terminal"], state["products"]["files"]) == ("progress", False, [])
    assert [e["status"] for e in state["events"]] == ["submitted", "progress"]

    done = make_job()
    state = client.get(f"/jobs/{done.job_id}/state.json", {LINK_PARAM: signed(done.job_id)}).json()
    assert state["is_terminal"] is True
    (file,) = state["products"]["files"]
    download = client.get(file["url"])
    assert download.status_code == 200
    assert download["Content-Disposition"].endswith('result.txt.gz"')


def test_mails_and_matrix_messages_carry_the_signed_link(client, make_job, settings):
    settings.PUBLIC_URL = "https://oda.example.org"
    job = make_job()
    link = job_link(job)
    assert link == job_page_url(job.job_id)
    assert link.startswith(f"https://oda.example.org/jobs/{job.job_id}/?{LINK_PARAM}=")
    assert link in message_for_email(job, event="done").text
    path = link.removeprefix("https://oda.example.org")
    assert client.get(path).status_code == 200


def staff_member(*, is_staff: bool = True):
    """A person logged in to the admin with a password, as staff (or not), who may view jobs there."""
    user = get_user_model().objects.create_user("boss", email="boss@example.org", password="pw", is_staff=is_staff)
    user.user_permissions.add(Permission.objects.get(content_type__app_label="jobs", codename="view_job"))
    return user


class TestAStaffSession:
    def test_the_admins_job_page_link_opens_the_page(self, client, make_job):
        job = make_job()  # alice's
        client.force_login(staff_member())
        admin_page = client.get(f"/admin/jobs/job/{job.pk}/change/")
        assert admin_page.status_code == 200
        (link,) = re.findall(r'<a href="(/jobs/[^"]+)">', admin_page.content.decode())
        assert link == job_page_path(job.job_id)

        page = client.get(link)
        assert page.status_code == 200
        html = page.content.decode()
        assert f"<code>{job.job_id}</code>" in html
        assert 'data-status="done"' in html
        state = client.get(f"/jobs/{job.job_id}/state.json")
        assert (state.status_code, state.json()["job_id"], state.json()["status"]) == (200, job.job_id, "done")

    def test_the_pages_file_links_download_for_the_staff_session(self, client, make_job):
        job = make_job()  # alice's, done, with result.txt
        client.force_login(staff_member())
        (file,) = client.get(f"/jobs/{job.job_id}/state.json").json()["products"]["files"]
        assert file["name"] == "result.txt"
        download = client.get(file["url"])
        assert download.status_code == 200
        assert download["Content-Disposition"] == 'attachment; filename="result.txt.gz"'

    def test_a_session_without_staff_status_is_refused(self, client, make_job):
        job = make_job()
        client.force_login(staff_member(is_staff=False))
        page = client.get(job_page_path(job.job_id))
        assert page.status_code == 403
        assert job.job_id not in page.content.decode()
        assert client.get(f"/jobs/{job.job_id}/state.json").status_code == 403

    def test_it_reads_nothing_and_changes_nothing_through_the_protocols(self, client, make_job):
        # Those endpoints take no CSRF token: a session there would let any site act for staff.
        running, done = make_job(status=Status.PROGRESS), make_job()
        client.force_login(staff_member())
        inspected = client.get("/inspect-state")
        assert inspected.status_code == 403
        assert "records" not in inspected.json()
        answer = client.get("/run_analysis", {"job_id": done.job_id, "query_status": "done"})
        assert (answer.status_code, answer.json()["error_code"]) == (403, "job_forbidden")
        assert client.get(f"/api/v1/jobs/{done.job_id}/").status_code == 403
        assert client.post(f"/api/v1/jobs/{running.job_id}/abort/").status_code == 403
        assert client.post(f"/uws/jobs/{running.job_id}/phase", {"PHASE": "ABORT"}).status_code == 403
        running.refresh_from_db()
        assert running.status == Status.PROGRESS
