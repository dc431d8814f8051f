"""The refusals clients compare verbatim, through the protocol's HTTP answers, and the records
/inspect-state gives: each as the earlier dispatcher answered it (docs/protocol.md)."""

from __future__ import annotations

import time

import jwt
import pytest
from django.conf import settings

from dispatcher_site.tokens import token_issue
from jobs.models import Job

pytestmark = pytest.mark.django_db

NEW = {"query_status": "new", "session_id": "SESSION000000001", "query_type": "Real"}
RELOGIN = (
    "please try to logout and login again. If already logged out, please clean the cookies, and resubmit you request."
)


def claims_token(**claims) -> str:
    payload = {"sub": "dora@example.org", "email": "dora@example.org", "exp": time.time() + 600, **claims}
    return jwt.encode(payload, settings.TOKEN_SECRET, algorithm="HS256")


def refusal(response, status: int) -> str:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error_message"] == body["exit_status"]["message"]
    return body["exit_status"]["message"]


def test_an_expired_token_is_refused_in_the_earlier_words(client):
    expired = claims_token(exp=time.time() - 500)
    answer = client.get("/run_analysis", {**NEW, "instrument": "empty", "product_type": "echo", "token": expired})
    assert refusal(answer, 403) == f"The token provided is expired, {RELOGIN}"


def test_a_forged_token_is_refused_in_the_earlier_words(client):
    forged = jwt.encode({"sub": "x@example.org", "exp": time.time() + 60}, "another secret", algorithm="HS256")
    answer = client.get("/run_analysis", {**NEW, "instrument": "empty", "product_type": "echo", "token": forged})
    assert refusal(answer, 403) == f"The token provided is not valid, {RELOGIN}"


@pytest.mark.parametrize(
    ("roles", "held", "lacking"),
    [
        (
            "soldier, general",
            "['soldier', 'general']",
            [" - unige-hpc-full: unige-hpc-full role is needed for p>50 as well"],
        ),
        (
            "",
            "['']",
            [
                " - general: general role is needed for p>50",
                " - unige-hpc-full: unige-hpc-full role is needed for p>50 as well",
            ],
        ),
    ],
)
def test_a_product_refused_lists_the_roles_held_and_lacking_with_the_instruments_reasons(client, roles, held, lacking):
    token = claims_token(roles=roles)
    answer = client.get(
        "/run_analysis", {**NEW, "instrument": "empty", "product_type": "numerical", "p": 55, "token": token}
    )
    assert refusal(answer, 403) == (
        "Unfortunately, your priviledges are not sufficient to make the request"
        " for this particular product and parameter combination.\n"
        f"- Your priviledge roles include {held}\n"
        "- You are lacking all of the following roles:\n" + "\n".join(lacking) + "\n"
        "You can request support if you think you should be able to make this request."
    )
    assert not Job.objects.exists()


def test_a_public_request_for_a_product_with_a_role_quotes_no_roles_and_no_reason_below_50_w(client):
    answer = client.get("/run_analysis", {**NEW, "instrument": "empty", "product_type": "numerical", "p": 5})
    message = refusal(answer, 403)
    assert "- Your priviledge roles include []\n" in message
    assert " - general: please refer to support for details\n" in message


@pytest.mark.parametrize("token", [None, "general"])
def test_a_restricted_instrument_is_refused_in_the_earlier_words(client, token):
    params = {**NEW, "instrument": "empty-development", "product_type": "dummy", "query_type": "Dummy"}
    if token:
        params["token"] = token_issue(email="g@example.org", roles=[token])
    message = refusal(client.get("/run_analysis", params), 403)
    assert message == "Unfortunately, your priviledges are not sufficient to make the request for this instrument.\n"
    developer = token_issue(email="d@example.org", roles=["oda workflow developer"])
    done = client.get("/run_analysis", {**params, "token": developer}).json()
    assert done["query_status"] == "done"


def test_inspecting_without_a_token_or_the_role_is_refused_in_the_earlier_words(client, alice):
    assert refusal(client.get("/inspect-state"), 403) == "A token must be provided."
    assert refusal(client.get("/inspect-user-state"), 403) == "A token must be provided."
    assert refusal(client.get("/inspect-state", {"token": alice}), 403) == (
        "Unfortunately, your privileges are not sufficient to inspect the state for a given job_id.\n"
        "Your privilege roles include ['general'], but the following roles are missing: job manager."
    )


def test_an_unknown_instrument_names_only_the_instruments_the_caller_may_use(client):
    body = client.get("/run_analysis", {**NEW, "instrument": "nope", "product_type": "echo"}).json()
    assert "empty" in body["installed_instruments"]
    assert "empty-development" not in body["installed_instruments"]
    assert "empty-development" not in body["exit_status"]["message"] and "empty," not in body["exit_status"]["message"]


# --- /inspect-state records ---------------------------------------------------------------------


def test_inspect_records_carry_the_fields_oda_api_reads(client, alice, manager):
    answer = client.get("/run_analysis", {**NEW, "instrument": "empty", "product_type": "echo", "token": alice}).json()
    job_id = answer["job_monitor"]["job_id"]
    (record,) = client.get("/inspect-state", {"token": manager}).json()["records"]
    assert record["job_id"] == job_id and record["session_id"] == NEW["session_id"]
    assert record["request_completed"] is True and record["token_expired"] is False
    assert record["ctime"] <= record["mtime"] <= time.time()
    assert record["finished"] >= record["created"]  # answered within its request, still never before it began
    assert record["analysis_parameters"]["product_type"] == "echo"
    assert record["analysis_parameters"]["email_history"] == record["email_history"] == []
    assert record["analysis_parameters"]["matrix_message_history"] == []
    assert record["owner"] == "alice@example.org"  # our own fields stay beside
    assert "job_status_data" not in record


def test_inspect_by_job_id_prefix_and_grouped_by_job(client, alice, manager):
    ids = []
    for src_name in ("Crab", "Vela"):
        params = {**NEW, "instrument": "empty", "product_type": "echo", "src_name": src_name, "token": alice}
        ids.append(client.get("/run_analysis", params).json()["job_monitor"]["job_id"])
    found = client.get("/inspect-state", {"token": manager, "job_id": ids[0][:8], "group_by_job": "True"}).json()
    (record,) = found["records"]
    assert record["job_id"] == ids[0]
    (status,) = record["job_status_data"]
    assert status["scratch_dir_fn"] == f"scratch_sid_{NEW['session_id']}_jid_{ids[0]}"
    assert status["scratch_dir_fn"].split("_")[2] == NEW["session_id"]  # where oda-api reads the session
    assert status["request_completed"] is True and status["job_status"] == "done"
    full = client.get("/inspect-state", {"token": manager, "job_id": ids[1]}).json()["records"]
    assert [r["job_id"] for r in full] == [ids[1]]


def test_a_job_of_an_expired_token_is_marked_so(client, manager):
    short = claims_token(exp=time.time() + 1)
    client.get("/run_analysis", {**NEW, "instrument": "empty", "product_type": "echo", "token": short})
    time.sleep(1.1)
    (record,) = client.get("/inspect-state", {"token": manager}).json()["records"]
    assert record["token_expired"] is True


def test_a_charlie_sees_none_of_alices_records(client, alice, charlie):
    client.get("/run_analysis", {**NEW, "instrument": "empty", "product_type": "echo", "token": alice})
    assert client.get("/inspect-user-state", {"token": charlie}).json()["records"] == []
