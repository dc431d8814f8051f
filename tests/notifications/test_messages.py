"""What the messages say: subject, plain and HTML bodies, links, api_code, Matrix content."""

from __future__ import annotations

import sys
import types

import pytest
from django.utils.html import escape

from jobs.api_code import api_code_for
from notifications.links import job_link
from notifications.messages import message_for_email, message_for_matrix, message_for_status
from notifications.transports.matrix import matrix_content

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("configured")]


def test_email_subject_follows_the_protocol(submit):
    job = submit()
    subject = message_for_email(job, event="done").subject
    requested = job.created_at.strftime("%Y-%m-%d %H:%M:%S")
    assert subject == f"[ODA][done] dummy requested at {requested} UTC job_id: {job.job_id[:8]}"


def test_email_bodies_carry_the_link_and_the_api_code(submit):
    job = submit()
    message = message_for_email(job, event="submitted")
    link = job_link(job)
    assert link.startswith(f"https://oda.example.org/jobs/{job.job_id}/")
    assert link in message.text
    assert "disp.get_product(" in message.text
    assert "was submitted" in message.text
    assert f'<a href="{escape(link)}">' in message.html
    assert "<pre><code>from oda_api.api import DispatcherAPI" in message.html


def test_failure_reasons_are_escaped_in_html_but_kept_in_plain_text(submit, move):
    job = move(submit(), "failed", "bad <script>alert(1)</script>")
    email = message_for_email(job, event="failed")
    assert "bad <script>alert(1)</script>" in email.text
    assert "<script>" not in email.html
    assert "&lt;script&gt;" in email.html
    matrix = message_for_matrix(job, event="failed")
    assert "<script>" not in matrix.html
    assert "Reason: bad <script>" in matrix.text


def test_matrix_content_has_plain_body_and_custom_html(submit, move):
    job = move(submit(), "done")
    content = matrix_content(message_for_matrix(job, event="done"))
    assert content["msgtype"] == "m.text"
    assert content["body"].startswith("[ODA][done] dummy (empty) requested at ")
    assert job.job_id[:8] in content["body"]
    assert content["format"] == "org.matrix.custom.html"
    assert content["formatted_body"].startswith("<p><b>[ODA][done]</b>")


def test_matrix_content_without_html_is_plain_only():
    from notifications.messages import Message

    assert matrix_content(Message(subject="", text="hello", html="")) == {"msgtype": "m.text", "body": "hello"}


def test_status_reply_tells_the_state_or_nothing(submit):
    job = submit()
    known = message_for_status(job, asked=job.job_id[:8])
    assert f"Job {job.job_id[:8]} (empty/dummy) is submitted" in known.text
    unknown = message_for_status(None, asked="deadbeef")
    assert unknown.text == "No job deadbeef notifies this room."


def test_api_code_reproduces_the_request(submit, monkeypatch):
    job = submit(p=1.5, **{"T_format": "isot", "band-name": "soft", "flags": [1, 2]})
    code = api_code_for(job, url="https://oda.example.org")
    calls = run_with_fake_oda_api(code, monkeypatch)
    assert calls == {
        "url": "https://oda.example.org",
        "kwargs": {
            "instrument": "empty",
            "product": "dummy",
            "product_type": "Real",
            "p": 1.5,
            "T_format": "isot",
            "band-name": "soft",
            "flags": [1, 2],
            "token": "discovered",
        },
    }


def test_api_code_of_a_public_job_asks_for_no_token(submit, monkeypatch):
    job = submit(owner="", claims={})
    calls = run_with_fake_oda_api(api_code_for(job, url="http://x"), monkeypatch)
    assert "token" not in calls["kwargs"]


def run_with_fake_oda_api(code: str, monkeypatch) -> dict:
    """Execute the snippet against stand-ins of oda_api and report what it asked for."""
    calls: dict = {}

    class DispatcherAPI:
        def __init__(self, url):
            calls["url"] = url

        def get_product(self, **kwargs):
            calls["kwargs"] = kwargs

    api = types.ModuleType("oda_api.api")
    api.DispatcherAPI = DispatcherAPI
    token = types.ModuleType("oda_api.token")
    token.discover_token = lambda: "discovered"
    monkeypatch.setitem(sys.modules, "oda_api", types.ModuleType("oda_api"))
    monkeypatch.setitem(sys.modules, "oda_api.api", api)
    monkeypatch.setitem(sys.modules, "oda_api.token", token)
    exec(compile(code, "api_code", "exec"), {})  # noqa: S102 - our own generated snippet
    return calls
