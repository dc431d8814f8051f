"""Bad input answers a 4xx with a message a person can act on, never a 500, on SQLite and PostgreSQL alike.

PostgreSQL refuses NUL characters in text (and ``\\u0000`` in jsonb) and enforces
column lengths, where SQLite takes anything: each case here must be refused before
it reaches the database, with the same answer on both. Django's test client
re-raises a view's exception, so a case that still gives a 500 fails with its
traceback.
"""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from jobs.models import Job
from jobs.services import job_get_or_create
from jobs.signing import callback_url
from tests.conftest import ALICE
from tests.site.tokenkit import forge, sign

pytestmark = pytest.mark.django_db

NEW = {"instrument": "empty", "product_type": "echo", "query_status": "new", "session_id": "SESSION000000001"}


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def refused(response, status: int = 400, *, naming: str = "") -> dict:
    """The protocol's error JSON with ``status``; its message names ``naming``."""
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error_message"] == body["exit_status"]["message"] == body["error"]
    assert naming in body["error_message"], body["error_message"]
    return body


def refused_text(response, status: int = 400, *, naming: str = "") -> str:
    """UWS's plain-text error with ``status``."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert naming in text, text
    return text


# --- NUL characters in request fields ---------------------------------------------------------


class TestNulInTheProtocol:
    def test_in_a_polled_job_id(self, client):
        body = refused(client.get("/run_analysis", {**NEW, "query_status": "submitted", "job_id": "ab\x00cd"}))
        assert "job_id" in body["error_message"]
        assert "NUL" in body["error_message"]

    def test_in_the_session_id(self, client):
        refused(client.get("/run_analysis", {**NEW, "session_id": "S\x00S"}), naming="session_id")
        assert not Job.objects.exists()

    def test_in_the_session_id_of_a_form_post(self, client):
        refused(client.post("/run_analysis", {**NEW, "session_id": "S\x00S"}), naming="session_id")

    def test_in_a_parameter_and_in_a_parameter_name(self, client):
        refused(client.get("/run_analysis", {**NEW, "src_name": "Cr\x00ab"}), naming="src_name")
        refused(client.get("/run_analysis", {**NEW, "un\x00known": "1"}))
        assert not Job.objects.exists()

    def test_the_protocols_none_marker_still_means_none(self, client, alice):
        # oda-api sends None as the single character "\x00": it is not refused, it is no value.
        answer = client.get("/run_analysis", {**NEW, "src_name": "\x00", "token": alice})
        assert answer.status_code == 200, answer.content
        job = Job.objects.get()
        assert job.params["src_name"] == "1E 1740.7-2942"  # the default
        marker_session = client.get("/run_analysis", {**NEW, "session_id": "\x00", "token": alice})
        assert marker_session.status_code == 200, marker_session.content
        assert marker_session.json()["job_monitor"]["job_id"] == job.job_id

    def test_in_a_download_an_inspection_and_the_metadata(self, client, manager):
        refused(client.get("/download_products", {"job_id": "a\x00", "file_list": "x"}), naming="job_id")
        refused(client.get("/download_products", {"job_id": "\x00", "file_list": "x"}), status=404)
        refused(client.get("/inspect-state", {"job_id": "a\x00", "token": manager}), naming="job_id")
        # The marker is no value: no job_id to filter by.
        assert client.get("/inspect-state", {"job_id": "\x00", "token": manager}).json() == {"records": []}
        refused(client.get("/api/meta-data", {"instrument": "em\x00pty"}), naming="instrument")

    def test_in_the_token_parameter(self, client):
        refused(client.get("/run_analysis", {**NEW, "token": "a.b\x00.c"}))


class TestNulInACallBack:
    def _signed(self) -> dict[str, str]:
        job, _ = job_get_or_create(owner="", instrument="empty-async", product_type="dummy", params={}, session_id="S")
        return {k: v[0] for k, v in parse_qs(urlsplit(callback_url(job)).query).items()}

    def test_in_its_message(self, client):
        query = self._signed()
        refused(client.get("/call_back", {**query, "action": "progress", "message": "half\x00way"}), naming="message")
        refused(client.post("/call_back", {**query, "action": "progress", "message": "half\x00way"}), naming="message")
        assert Job.objects.get().events.count() == 1  # only its creation

    def test_in_its_job_id(self, client):
        query = self._signed()
        refused(client.get("/call_back", {**query, "job_id": query["job_id"] + "\x00"}), naming="job_id")

    def test_a_none_marker_is_a_report_without_that_field(self, client):
        query = self._signed()
        response = client.get("/call_back", {**query, "action": "progress", "message": "\x00", "stage": "\x00"})
        assert response.status_code == 200, response.content


class TestNulInUws:
    def test_in_the_runid(self, client, alice):
        response = client.post(
            "/uws/jobs", {"instrument": "empty", "product_type": "echo", "RUNID": "r\x00"}, **bearer(alice)
        )
        refused_text(response, naming="RUNID")
        assert not Job.objects.exists()

    def test_a_none_marker_runid_is_no_runid(self, client, alice):
        response = client.post(
            "/uws/jobs", {"instrument": "empty", "product_type": "echo", "RUNID": "\x00"}, **bearer(alice)
        )
        assert response.status_code == 303, response.content
        assert Job.objects.get().run_id == ""

    def test_in_a_job_id_in_the_path(self, client, alice):
        refused_text(client.get("/uws/jobs/ab%00cd", **bearer(alice)), naming="job_id")
        refused_text(client.get("/uws/jobs/%00/phase", **bearer(alice)), naming="job_id")


class TestNulInRest:
    def test_in_a_list_filter(self, client, alice):
        refused(client.get("/api/v1/jobs/", {"instrument": "em\x00pty"}, **bearer(alice)), naming="instrument")
        refused(client.get("/api/v1/jobs/", {"status": "done\x00"}, **bearer(alice)), naming="status")

    def test_in_a_job_id_in_the_path(self, client, alice):
        refused(client.get("/api/v1/jobs/ab%00cd/", **bearer(alice)), naming="job_id")

    def test_inside_json_params(self, client, alice):
        for params in (
            {"src_name": "Cr\u0000ab"},
            {"unknown": "\u0000"},
            {"un\u0000known": 1},
            {"x": ["a", {"b": "\u0000"}]},
        ):
            response = client.post(
                "/api/v1/jobs/",
                json.dumps({"instrument": "empty", "product_type": "echo", "params": params}),
                content_type="application/json",
                **bearer(alice),
            )
            refused(response, naming="NUL")
        assert not Job.objects.exists()

    def test_in_the_session_id(self, client, alice):
        asked = {"instrument": "empty", "product_type": "echo", "session_id": "S\u0000"}
        response = client.post("/api/v1/jobs/", json.dumps(asked), content_type="application/json", **bearer(alice))
        refused(response, naming="session_id")


class TestNulInTheJobPage:
    def test_in_the_job_id(self, client):
        response = client.get("/jobs/ab%00cd/state.json")
        refused(response, naming="job_id")
        page = client.get("/jobs/ab%00cd/")
        assert page.status_code == 400
        assert b"job_id" in page.content


# --- lengths the database enforces ----------------------------------------------------------


def test_a_session_id_over_64_characters(client):
    refused(client.get("/run_analysis", {**NEW, "session_id": "S" * 65}), naming="session_id")
    refused(client.post("/run_analysis", {**NEW, "session_id": "S" * 65}), naming="session_id")
    assert client.get("/run_analysis", {**NEW, "session_id": "S" * 64}).status_code == 200


def test_a_token_sub_over_254_characters(client):
    long_sub = "a" * 243 + "@example.org"  # 255 characters
    token = sign(sub=long_sub, email=None)
    body = refused(client.get("/run_analysis", {**NEW, "token": token}), status=403, naming="sub")
    assert "254" in body["error_message"]
    refused(client.get("/api/v1/jobs/", **bearer(token)), status=403, naming="sub")
    assert not Job.objects.exists()
    fits = sign(sub="a" * 242 + "@example.org", email=None)
    assert client.get("/run_analysis", {**NEW, "token": fits}).status_code == 200


# --- tokens' claims -------------------------------------------------------------------------


class TestTokenClaims:
    @pytest.mark.parametrize(
        "claims",
        [
            {"sub": "ali\x00ce@example.org"},
            {"email": None, "sub": "alice@example.org\x00"},
            {"name": "Al\x00ice"},
            {"mxroomid": "!room\x00:example.org"},
            {"roles": ["general", "x\x00"]},
            {"sub": "\ud800@example.org"},
        ],
        ids=["sub", "sub-only", "name", "option", "role", "surrogate"],
    )
    def test_text_no_database_stores_is_refused(self, client, claims):
        token = sign(claims)
        for response in (
            client.get("/run_analysis", {**NEW, "token": token}),
            client.get("/uws/jobs", **bearer(token)),
        ):
            assert response.status_code == 403, response.content
        refused(client.get("/api/v1/jobs/", **bearer(token)), status=403, naming="not valid")
        assert not Job.objects.exists()

    @pytest.mark.parametrize("exp", ["2000000000", "soon", 1e300, 10**20, True, [1]])
    def test_a_signed_token_whose_exp_is_not_a_time(self, client, exp):
        token = sign(exp=exp)
        body = refused(client.get("/run_analysis", {**NEW, "token": token}), status=403)
        assert "token" in body["error_message"]
        refused(client.get("/api/v1/jobs/", **bearer(token)), status=403)
        refused_text(client.get("/uws/jobs", **bearer(token)), status=403)

    @pytest.mark.parametrize("claim", ["exp", "iat", "nbf", "tem"])
    @pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
    def test_times_that_are_not_numbers(self, client, settings, claim, value):
        # Python's JSON reads Infinity and NaN; a token signed with them is refused, not a 500.
        token = forge({"alg": "HS256", "typ": "JWT"}, _claims(**{claim: value}), key=settings.TOKEN_SECRET)
        refused(client.get("/run_analysis", {**NEW, "token": token}), status=403)
        assert not Job.objects.exists()

    @pytest.mark.parametrize("claim", ["iat", "nbf"])
    def test_times_long_past_are_only_times(self, client, claim):
        # Nothing reads them as datetimes: a token issued "before" year 1 is still a token.
        token = sign(**{claim: -1e300})
        assert client.get("/run_analysis", {**NEW, "token": token}).status_code == 200


def _claims(**changes) -> dict:
    claims = {"sub": ALICE, "roles": ["general"], "exp": int(time.time()) + 3600, **changes}
    return {key: value for key, value in claims.items() if value is not None}


# --- UWS list parameters --------------------------------------------------------------------


class TestUwsList:
    @pytest.mark.parametrize("last", ["²", "١٢", "1" * 23, "-1", "1.5"])
    def test_last_that_is_no_count(self, client, alice, last):
        refused_text(client.get("/uws/jobs", {"LAST": last}, **bearer(alice)), naming="LAST")

    @pytest.mark.parametrize("after", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"])
    def test_after_out_of_range_in_utc(self, client, alice, after):
        refused_text(client.get("/uws/jobs", {"AFTER": after}, **bearer(alice)), naming="AFTER")

    def test_the_bounds_themselves_still_work(self, client, alice):
        assert client.get("/uws/jobs", {"LAST": "0"}, **bearer(alice)).status_code == 200
        assert client.get("/uws/jobs", {"LAST": "1000000"}, **bearer(alice)).status_code == 200
        assert client.get("/uws/jobs", {"AFTER": "0001-01-01T00:00:00Z"}, **bearer(alice)).status_code == 200


# --- JSON bodies of the REST API ------------------------------------------------------------


class TestRestJson:
    def _post(self, client, token, body: str):
        return client.post("/api/v1/jobs/", body, content_type="application/json", **bearer(token))

    def test_a_lone_surrogate_in_params(self, client, alice):
        body = '{"instrument": "empty", "product_type": "echo", "params": {"src_name": "\\ud800"}}'
        refused(self._post(client, alice, body), naming="surrogate")
        body = '{"instrument": "empty", "product_type": "echo", "params": {"\\udfff": 1}}'
        refused(self._post(client, alice, body), naming="surrogate")
        assert not Job.objects.exists()

    def test_5000_nested_arrays(self, client, alice):
        nested = "[" * 5000 + "]" * 5000
        body = f'{{"instrument": "empty", "product_type": "echo", "params": {{"src_name": {nested}}}}}'
        refused(self._post(client, alice, body), naming="nested")
        refused(self._post(client, alice, nested), naming="nested")

    def test_a_well_formed_body_still_makes_a_job(self, client, alice):
        body = json.dumps({"instrument": "empty", "product_type": "echo", "params": {"src_name": "Crab ✓"}})
        assert self._post(client, alice, body).status_code == 201


# --- methods an endpoint does not take ------------------------------------------------------


class TestWrongMethod:
    @pytest.fixture
    def csrf_client(self) -> Client:
        # The test client skips CSRF checks by default; a real browser or script does not.
        return Client(enforce_csrf_checks=True)

    @pytest.mark.parametrize(
        "path",
        [
            "/api/instr-list",
            "/api/meta-data",
            "/api/par-names",
            "/dispatch-data/api/instr-list",
            "/inspect-state",
            "/inspect-user-state",
            "/refresh_token",
            "/update_token_email_options",
            "/healthz",
        ],
    )
    def test_a_post_to_a_get_only_endpoint_is_405_json(self, csrf_client, path):
        response = csrf_client.post(path, {"instrument": "empty"})
        body = refused(response, status=405, naming="POST")
        assert "GET" in response["Allow"]
        assert body["error_code"] == "method_not_allowed"

    def test_other_methods_on_the_protocol_endpoints(self, csrf_client):
        for path in ("/run_analysis", "/call_back"):
            response = csrf_client.delete(path)
            refused(response, status=405, naming="DELETE")
            assert set(response["Allow"].split(", ")) == {"GET", "POST"}
        # The frontend's downloads may come as GET, POST or HEAD (issue 14).
        response = csrf_client.delete("/download_products")
        refused(response, status=405, naming="DELETE")
        assert set(response["Allow"].split(", ")) == {"GET", "HEAD", "POST"}

    def test_uws_get_only_resources_answer_in_text(self, csrf_client, alice):
        response = csrf_client.post("/uws/jobs/abc/error", **bearer(alice))
        refused_text(response, status=405, naming="POST")
        assert response["Allow"] == "GET"

    def test_the_job_page(self, csrf_client):
        response = csrf_client.post("/jobs/abc/")
        assert response.status_code == 405
        assert response["Allow"] == "GET"

    def test_the_admin_still_checks_csrf(self, csrf_client):
        assert csrf_client.post("/admin/login/", {"username": "x", "password": "y"}).status_code == 403
