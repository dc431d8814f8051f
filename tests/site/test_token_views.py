"""The token endpoints, through HTTP as oda-api and the frontend call them."""

import time

import jwt
import pytest
from django.conf import settings

from tests.site.tokenkit import sign

pytestmark = pytest.mark.django_db

PREFIXES = ["", "/dispatch-data"]


def claims_of(response) -> dict:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return jwt.decode(response.content.decode(), settings.TOKEN_SECRET, algorithms=["HS256"])


def assert_error(response, status: int, starts: str = "", contains: str = "") -> str:
    assert response.status_code == status
    body = response.json()
    message = body["error"]
    assert body["error_message"] == message
    assert body["exit_status"] == {"status": 1, "message": message, "error_message": message}
    assert message.startswith(starts)
    assert contains in message
    return message


# --- /refresh_token ---


@pytest.mark.parametrize("prefix", PREFIXES)
def test_refresh_extends_exp_by_the_interval(client, prefix):
    token = sign(roles=["general", "refresh-tokens"], msdone=False)
    before = jwt.decode(token, settings.TOKEN_SECRET, algorithms=["HS256"])
    claims = claims_of(client.get(f"{prefix}/refresh_token", {"token": token, "refresh_interval": "7200"}))
    assert claims["exp"] == before["exp"] + 7200
    # Everything else is kept as it was.
    assert {k: v for k, v in claims.items() if k != "exp"} == {k: v for k, v in before.items() if k != "exp"}


def test_refresh_is_capped_by_the_site_maximum(client, settings):
    settings.TOKEN_MAX_REFRESH_S = 3600
    token = sign(roles=["refresh-tokens"], exp=int(time.time()) + 600)
    started = time.time()
    claims = claims_of(client.get("/refresh_token", {"token": token, "refresh_interval": str(30 * 24 * 3600)}))
    assert int(started) + 3600 - 1 <= claims["exp"] <= time.time() + 3600


def test_refresh_without_an_interval_extends_as_far_as_allowed(client, settings):
    # oda-api's DispatcherAPI.refresh_token sends no refresh_interval.
    settings.TOKEN_MAX_REFRESH_S = 7200
    token = sign(roles=["refresh-tokens"], exp=int(time.time()) + 60)
    claims = claims_of(client.get("/refresh_token", {"token": token, "query_status": "new"}))
    assert claims["exp"] >= time.time() + 7200 - 5


def test_refresh_keeps_a_float_exp_working(client):
    token = sign(roles=["refresh-tokens"], exp=time.time() + 100.5)
    claims = claims_of(client.get("/refresh_token", {"token": token, "refresh_interval": "100"}))
    assert claims["exp"] >= time.time() + 199


def test_refresh_never_shortens_a_token(client, settings):
    settings.TOKEN_MAX_REFRESH_S = 60
    exp = int(time.time()) + 10 * 3600
    claims = claims_of(client.get("/refresh_token", {"token": sign(roles=["refresh-tokens"], exp=exp)}))
    assert claims["exp"] == exp


def test_refresh_needs_the_role(client):
    response = client.get("/refresh_token", {"token": sign(roles=["general"]), "refresh_interval": "60"})
    assert_error(
        response,
        403,
        starts="Unfortunately, your privileges are not sufficient",
        contains="the following roles are missing: refresh-tokens",
    )


def test_refresh_needs_a_token(client):
    assert_error(client.get("/refresh_token"), 403, starts="A token must be provided.")


@pytest.mark.parametrize("interval", ["soon", "-5", "0", "nan", "inf"])
def test_refresh_with_a_bad_interval_is_a_400(client, interval):
    token = sign(roles=["refresh-tokens"])
    response = client.get("/refresh_token", {"token": token, "refresh_interval": interval})
    assert_error(response, 400, contains="refresh_interval must be a positive number of seconds")


def test_refresh_refuses_an_expired_token(client):
    token = sign(roles=["refresh-tokens"], exp=int(time.time()) - 5)
    message = assert_error(
        client.get("/refresh_token", {"token": token}), 403, starts="The token provided is expired, "
    )
    assert token not in message


def test_refresh_refuses_a_token_of_another_secret(client):
    token = sign(roles=["refresh-tokens"], secret="another-secret-of-the-right-length-0123456789")
    response = client.get("/refresh_token", {"token": token})
    assert_error(response, 403, starts="The token provided is not valid, ")
    assert token not in response.content.decode()


def test_a_malformed_token_is_a_400(client):
    response = client.get("/update_token_email_options", {"token": "definitely-not-a-jwt"})
    assert_error(response, 400, starts="The token provided is malformed: ")


def test_token_answers_are_never_cached(client):
    response = client.get("/refresh_token", {"token": sign(roles=["refresh-tokens"])})
    assert "no-store" in response["Cache-Control"]


def test_the_token_endpoints_answer_get_only(client):
    assert client.post("/refresh_token", {"token": sign(roles=["refresh-tokens"])}).status_code == 405


# --- /update_token_email_options ---


@pytest.mark.parametrize("prefix", PREFIXES)
def test_email_options_are_set(client, prefix):
    token = sign()
    before = jwt.decode(token, settings.TOKEN_SECRET, algorithms=["HS256"])
    params = {"token": token, "msdone": "false", "mssub": "1", "msfail": "0", "mstout": "true"}
    claims = claims_of(client.get(f"{prefix}/update_token_email_options", {**params, "intsub": "600", "tem": "90"}))
    assert (claims["msdone"], claims["mssub"], claims["msfail"], claims["mstout"]) == (False, True, False, True)
    assert (claims["intsub"], claims["tem"]) == (600, 90)
    assert claims["exp"] == before["exp"]
    assert claims["sub"] == "alice@example.org" and claims["roles"] == ["general"]


def test_options_as_oda_api_sends_them(client):
    # DispatcherAPI.disable_email_token: Python's str(False) and an unrelated query_status.
    params = {"token": sign(), "msfail": "False", "mssub": "False", "msdone": "False", "query_status": "new"}
    claims = claims_of(client.get("/update_token_email_options", params))
    assert (claims["msfail"], claims["mssub"], claims["msdone"]) == (False, False, False)
    assert "query_status" not in claims


def test_matrix_options_are_set(client):
    params = {"mxsub": "true", "mxdone": "false", "mxfail": "1", "mxstout": "0", "mxintsub": "30", "tmx": "120"}
    claims = claims_of(
        client.get("/update_token_email_options", {"token": sign(), "mxroomid": "!room:localhost", **params})
    )
    assert claims["mxroomid"] == "!room:localhost"
    assert (claims["mxsub"], claims["mxdone"], claims["mxfail"], claims["mxstout"]) == (True, False, True, False)
    assert (claims["mxintsub"], claims["tmx"]) == (30, 120)


def test_options_need_no_role_but_a_token(client):
    assert_error(
        client.get("/update_token_email_options", {"msdone": "false"}), 403, starts="A token must be provided."
    )


@pytest.mark.parametrize(
    ("name", "value"), [("msdone", "maybe"), ("mxsub", ""), ("intsub", "-1"), ("tem", "later"), ("tmx", "nan")]
)
def test_a_bad_option_is_a_400_naming_it(client, name, value):
    response = client.get("/update_token_email_options", {"token": sign(), name: value})
    assert_error(response, 400, starts=f"{name} must be")


def test_an_expired_token_cannot_change_options(client):
    response = client.get("/update_token_email_options", {"token": sign(exp=1), "msdone": "false"})
    assert_error(response, 403, starts="The token provided is expired, ")
