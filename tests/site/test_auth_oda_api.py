"""Tokens made and read by the real oda-api token tools (oda_api.token) work with our verification."""

import time

import pytest
from django.conf import settings
from oda_api.token import decode_oda_token, get_token_roles, update_token

from dispatcher_site.auth import caller_from_token
from dispatcher_site.tokens import token_issue, token_refresh
from tests.site.tokenkit import sign


def test_a_token_modified_by_oda_api_is_accepted():
    # What `oda-api token modify --disable-email --matrix-room-id R --new-validity-hours 2`
    # does: re-sign with the secret, exp as a float.
    def modify(payload):
        return {
            **payload,
            "mssub": False,
            "msdone": False,
            "mxroomid": "!abc:localhost",
            "roles": "general, unige-hpc-full",
            "exp": time.time() + 2 * 3600,
        }

    token = update_token(token_issue(email="alice@example.org", roles=["general"]), settings.TOKEN_SECRET, modify)
    caller = caller_from_token(token)
    assert caller.sub == "alice@example.org"
    assert caller.roles == frozenset({"general", "unige-hpc-full"})
    assert isinstance(caller.claims["exp"], float)
    assert caller.claims["msdone"] is False
    assert caller.claims["mxroomid"] == "!abc:localhost"


def test_a_token_re_signed_by_oda_api_with_another_secret_is_refused():
    from dispatcher_site.auth import TokenInvalid

    other = "someone-else's-secret-0123456789abcdef"
    token = update_token(sign(secret=other), other, lambda payload: {**payload, "roles": ["job manager"]})
    with pytest.raises(TokenInvalid):
        caller_from_token(token)


def test_oda_api_reads_the_tokens_we_issue_and_refresh():
    issued = token_issue(email="alice@example.org", roles=["general", "refresh-tokens"], hours=1)
    decoded = decode_oda_token(issued, secret_key=settings.TOKEN_SECRET)
    assert decoded["sub"] == "alice@example.org"
    assert get_token_roles(decoded) == ["general", "refresh-tokens"]

    refreshed = token_refresh(claims=decoded, interval_s=3600)
    assert decode_oda_token(refreshed, secret_key=settings.TOKEN_SECRET)["exp"] >= decoded["exp"] + 3600 - 1
