"""Return progress, the meta-data mark, CORS, links to the frontend and incident reports."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest

from jobs.services import job_get_or_create, job_move
from jobs.signing import LINK_PARAM
from jobs.states import Status
from notifications.links import job_link
from notifications.models import Delivery, IncidentReport
from tests.conftest import ALICE

pytestmark = pytest.mark.django_db(transaction=True)


def running(instrument: str, product: str = "dummy", **params):
    job, _ = job_get_or_create(owner=ALICE, instrument=instrument, product_type=product, params=params)
    job_move(job_id=job.job_id, to=Status.PROGRESS)
    job.refresh_from_db()
    return job


class TestReturnProgress:
    def test_an_instrument_that_serves_it_answers_its_progress_page(self, client, alice):
        job = running("empty-async-return-progress", p=25.0)
        job.backend_ref = {"started_at": time.time() - 3}
        job.save(update_fields=["backend_ref"])
        # As the frontend's "Return progress" link: query_status=new, return_progress=True, the job's id.
        answer = client.post(
            "/dispatch-data/run_analysis",
            {"instrument": job.instrument, "product_type": "dummy", "p": "25", "query_status": "new",
             "return_progress": "True", "job_id": job.job_id, "session_id": "S" * 16, "token": alice},
        ).json()  # fmt: skip
        (page,) = answer["products"]["progress_product_html_output"]
        assert "current p value is 25.0" in page and "running for 3." in page
        assert answer["query_status"] == "progress"
        assert "return_progress" not in answer["exit_status"]["comment"]  # a protocol field, not "not used"

    def test_others_answer_a_comment_not_an_error(self, client, alice):
        job = running("empty-async")
        answer = client.get(
            "/run_analysis", {"job_id": job.job_id, "query_status": "new", "return_progress": "True", "token": alice}
        ).json()
        assert "progress_product_html_output" not in answer["products"]
        assert answer["exit_status"]["status"] == 0
        assert answer["exit_status"]["comment"] == "The instrument empty-async does not show the progress of its jobs."

    def test_meta_data_marks_the_instruments_that_serve_it(self, client):
        marked = client.get("/api/meta-data", {"instrument": "empty-async-return-progress"}).json()
        assert marked[0][0] == {"instrumet": "empty-async-return-progress", "support_return_progress": True}
        assert client.get("/api/meta-data", {"instrument": "empty-async"}).json()[0][0] == {"instrumet": "empty-async"}

    def test_the_outsider_gets_no_progress_page(self, client, charlie):
        job = running("empty-async-return-progress", p=1.0)
        response = client.get(
            "/run_analysis", {"job_id": job.job_id, "query_status": "new", "return_progress": "True", "token": charlie}
        )
        assert response.status_code == 403


class TestCors:
    ORIGIN = "https://frontend.example.org"

    def test_nothing_is_allowed_by_default(self, client):
        response = client.get("/api/instr-list", HTTP_ORIGIN=self.ORIGIN)
        assert "Access-Control-Allow-Origin" not in response

    def test_a_configured_origin_may_call_the_protocol_from_the_browser(self, client, settings):
        settings.CORS_ALLOWED_ORIGINS = [self.ORIGIN]
        preflight = client.options(
            "/dispatch-data/run_analysis", HTTP_ORIGIN=self.ORIGIN, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
        )
        assert preflight.status_code == 200 and preflight["Access-Control-Allow-Origin"] == self.ORIGIN
        assert client.get("/api/instr-list", HTTP_ORIGIN=self.ORIGIN)["Access-Control-Allow-Origin"] == self.ORIGIN
        other = client.get("/api/instr-list", HTTP_ORIGIN="https://elsewhere.example.org")
        assert "Access-Control-Allow-Origin" not in other
        # Only the protocol: the admin and the REST API stay same-origin.
        assert "Access-Control-Allow-Origin" not in client.get("/api/v1/instruments", HTTP_ORIGIN=self.ORIGIN)


class TestLinks:
    def test_without_a_frontend_mails_link_to_the_job_page(self, settings):
        settings.FRONTEND_URL = ""
        job = running("empty", "echo", case="links")
        assert urlsplit(job_link(job)).path == f"/jobs/{job.job_id}/"

    def test_with_a_frontend_mails_link_through_resolve_job_url_to_the_filled_form(self, client, settings):
        settings.FRONTEND_URL = "https://frontend.example.org/mmoda"
        job = running("empty-async", "numerical", p=12.5, scw_list=["0665", "0666"], src_name="Crab")
        link = urlsplit(job_link(job))
        assert link.path == "/dispatch-data/resolve-job-url" and len(job_link(job)) < 300

        response = client.get(link.path, parse_qs(link.query))

        assert response.status_code == 302
        target = urlsplit(response["Location"])
        assert f"{target.scheme}://{target.netloc}{target.path}" == "https://frontend.example.org/mmoda"
        asked = {key: values[0] for key, values in parse_qs(target.query).items()}
        assert asked == {"instrument": "empty-async", "product_type": "numerical", "query_type": "Real",
                         "p": "12.5", "scw_list": "0665,0666", "src_name": "Crab"}  # fmt: skip

    def test_resolve_job_url_needs_the_link_or_the_owners_token(self, client, settings, alice, charlie):
        settings.FRONTEND_URL = "https://frontend.example.org/mmoda"
        job = running("empty", "echo", case="resolve")
        assert client.get("/resolve-job-url", {"job_id": job.job_id}).status_code == 403
        assert client.get("/resolve-job-url", {"job_id": job.job_id, "token": charlie}).status_code == 403
        assert client.get("/resolve-job-url", {"job_id": job.job_id, LINK_PARAM: "1:forged"}).status_code == 403
        assert client.get("/resolve-job-url", {"job_id": job.job_id, "token": alice}).status_code == 302


class TestIncidents:
    def test_a_report_goes_to_the_operators_as_a_delivery(self, client, alice, settings, mailoutbox):
        settings.EMAIL_HOST, settings.INCIDENT_EMAILS = "smtp.example.org", ["ops@example.org"]
        job = running("empty", "echo", case="incident")
        answer = client.post(
            "/dispatch-data/report_incident",
            {"token": alice, "job_id": job.job_id, "session_id": "S" * 16, "incident_content": "The plot is empty"},
        ).json()
        assert answer["email_report_status"] == "incident report email successfully sent"
        assert answer["martix_message_report_status"].startswith("matrix message not sent")
        (delivery,) = Delivery.objects.filter(event="incident")
        assert (delivery.channel, delivery.recipient, delivery.outcome, delivery.role) == (
            "email", "ops@example.org", "sent", "incident")  # fmt: skip
        report = IncidentReport.objects.get()
        assert (report.reporter, report.description, report.job_id) == (ALICE, "The plot is empty", job.pk)
        (mail,) = mailoutbox
        assert mail.to == ["ops@example.org"] and mail.subject.startswith("[ODA][incident] reported by alice@")
        assert "The plot is empty" in mail.body and job.job_id in mail.body

    def test_no_operators_configured_says_so(self, client, alice, settings):
        settings.INCIDENT_EMAILS = []
        job = running("empty", "echo", case="nobody")
        answer = client.post("/report_incident", {"token": alice, "job_id": job.job_id, "incident_content": "x"})
        assert answer.status_code == 200
        assert answer.json()["email_report_status"].startswith("email not sent")
        assert answer.json()["deliveries"] == []

    def test_a_token_is_needed_and_only_for_a_job_one_may_read(self, client, charlie):
        job = running("empty", "echo", case="charlie")
        assert client.post("/report_incident", {"job_id": job.job_id, "incident_content": "x"}).status_code == 403
        fields = {"job_id": job.job_id, "incident_content": "x", "token": charlie}
        assert client.post("/report_incident", fields).status_code == 403
        assert not IncidentReport.objects.exists()
