"""`manage.py issue_token` prints a token our own verification accepts."""

import io
import time

import pytest
from django.core.management import CommandError, call_command

from dispatcher_site.auth import caller_from_token


def issue(*args: str) -> str:
    out = io.StringIO()
    call_command("issue_token", *args, stdout=out)
    return out.getvalue()


def test_it_prints_only_a_token_that_verifies():
    output = issue("--email", "alice@example.org", "--roles", "general, job manager", "--hours", "2")
    assert output.endswith("\n") and output.count("\n") == 1
    caller = caller_from_token(output.strip())
    assert caller.sub == caller.email == "alice@example.org"
    assert caller.name == "alice"
    assert caller.roles == frozenset({"general", "job manager"})
    assert time.time() + 2 * 3600 - 5 <= caller.claims["exp"] <= time.time() + 2 * 3600


def test_it_sets_the_matrix_room_and_name():
    caller = caller_from_token(
        issue("--email", "bob@example.org", "--matrix-room", "!room:localhost", "--name", "Bob B").strip()
    )
    assert caller.claims["mxroomid"] == "!room:localhost"
    assert caller.name == "Bob B"
    assert caller.roles == frozenset()


def test_default_validity_is_a_day():
    caller = caller_from_token(issue("--email", "alice@example.org").strip())
    assert abs(caller.claims["exp"] - (time.time() + 24 * 3600)) < 5


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--email", "not-an-email"], "is not an email address"),
        (["--email", "a@example.org", "--hours", "0"], "--hours must be a positive number"),
        (["--email", "a@example.org", "--hours", "nan"], "--hours must be a positive number"),
    ],
)
def test_it_refuses_bad_arguments(args, complaint):
    with pytest.raises(CommandError, match=complaint):
        issue(*args)
