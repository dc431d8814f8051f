"""Verifying the platform's tokens: what is accepted, and each refusal with its status and text."""

import time

import pytest
from django.conf import settings

from dispatcher_site.auth import (
    TokenExpired,
    TokenInvalid,
    TokenMalformed,
    caller_from_token,
)
from tests.site.tokenkit import alice_claims, forge, sign

# The earlier dispatcher's texts, word for word ("resubmit you request" included): clients compare them.
EXPIRED_TEXT = (
    "The token provided is expired, please try to logout and login again. "
    "If already logged out, please clean the cookies, and resubmit you request."
)
BAD_SIGNATURE_TEXT = (
    "The token provided is not valid, please try to logout and login again. "
    "If already logged out, please clean the cookies, and resubmit you request."
)
INVALID_START = "The token provided is not valid, "


def refused(token: str, error: type) -> Exception:
    with pytest.raises(error) as caught:
        caller_from_token(token)
    assert token not in caught.value.message
    return caught.value


def test_it_describes_the_holder_of_a_good_token():
    caller = caller_from_token(sign(roles=["general", "job manager"]))
    assert caller.sub == "alice@example.org"
    assert caller.email == "alice@example.org"
    assert caller.name == "Alice"
    assert caller.roles == frozenset({"general", "job manager"})
    assert caller.claims["exp"] > time.time()
    assert not caller.is_public


def test_roles_may_be_a_comma_separated_string():
    caller = caller_from_token(sign(roles="general, unige-hpc-full,job manager"))
    assert caller.roles == frozenset({"general", "unige-hpc-full", "job manager"})


def test_a_token_without_roles_has_none():
    assert caller_from_token(sign(roles=None)).roles == frozenset()


def test_exp_may_be_a_float():
    exp = time.time() + 600.25
    caller = caller_from_token(sign(exp=exp))
    assert caller.claims["exp"] == exp


def test_sub_falls_back_to_email():
    caller = caller_from_token(sign(sub=None, email="bob@example.org"))
    assert caller.sub == "bob@example.org"
    assert caller.email == "bob@example.org"


def test_notification_options_are_kept_in_the_claims():
    caller = caller_from_token(sign(msdone=False, mxroomid="!room:localhost"))
    assert caller.claims["msdone"] is False
    assert caller.claims["mxroomid"] == "!room:localhost"


def test_the_raw_token_is_kept_but_never_in_the_repr():
    token = sign()
    caller = caller_from_token(token)
    assert caller.token == token
    assert token not in repr(caller)


def test_it_refuses_an_expired_token_with_the_known_text():
    error = refused(sign(exp=int(time.time()) - 10), TokenExpired)
    assert error.status_code == 403
    assert error.message == EXPIRED_TEXT


def test_it_refuses_an_expired_float_exp():
    refused(sign(exp=time.time() - 0.5), TokenExpired)


def test_it_refuses_a_tampered_payload():
    header, _, signature = sign().split(".")
    other_payload = sign(roles=["job manager"]).split(".")[1]
    error = refused(f"{header}.{other_payload}.{signature}", TokenInvalid)
    assert error.status_code == 403
    assert error.message == BAD_SIGNATURE_TEXT


def test_it_refuses_a_token_signed_with_another_secret():
    error = refused(sign(secret="another-secret-of-the-right-length-0123456789"), TokenInvalid)
    assert error.status_code == 403
    assert error.message.startswith(INVALID_START)


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_it_refuses_alg_none(alg):
    error = refused(forge({"alg": alg, "typ": "JWT"}, alice_claims()), TokenInvalid)
    assert error.status_code == 403
    assert error.message.startswith(INVALID_START)


def test_it_refuses_alg_none_made_by_pyjwt():
    refused(sign(algorithm="none"), TokenInvalid)


@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
def test_it_refuses_other_hmac_algorithms_even_with_the_right_secret(algorithm):
    error = refused(sign(algorithm=algorithm), TokenInvalid)
    assert error.message.startswith(INVALID_START + "it must be signed with HS256")


def test_it_refuses_an_rs256_header_over_an_hmac_signature():
    # The algorithm-confusion trick: claim RS256, sign with the shared secret as if it were a key.
    token = forge({"alg": "RS256", "typ": "JWT"}, alice_claims(), key=settings.TOKEN_SECRET)
    refused(token, TokenInvalid)


def test_it_refuses_a_token_without_expiry():
    error = refused(sign(exp=None), TokenInvalid)
    assert "exp" in error.message


def test_it_refuses_a_token_that_names_nobody():
    error = refused(sign(sub=None, email=None), TokenInvalid)
    assert "no sub or email" in error.message


def test_it_refuses_roles_of_another_shape():
    refused(sign(roles={"general": True}), TokenInvalid)


@pytest.mark.parametrize(
    "garbage",
    [
        "not-a-token",
        "a.b.c",
        "eyJhbGciOiJIUzI1NiJ9.not base64!.x",
        "....",
        "eyJhbGciOiJIUzI1NiJ9",
        "x" * 20_000,
    ],
)
def test_a_malformed_token_is_a_400_with_a_clear_message(garbage):
    error = refused(garbage, TokenMalformed)
    assert error.status_code == 400
    assert error.message.startswith("The token provided is malformed: ")


def test_a_payload_that_is_no_json_object_is_malformed():
    token = forge({"alg": "HS256", "typ": "JWT"}, ["a", "list"], key=settings.TOKEN_SECRET)
    refused(token, TokenMalformed)
