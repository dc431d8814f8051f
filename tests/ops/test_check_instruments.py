"""check_instruments reaches every enabled backend: 0 when all answer, 1 naming those down."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from instruments.models import Instrument
from tests.conftest import free_port

pytestmark = pytest.mark.django_db


def check(*args: str) -> str:
    out = io.StringIO()
    call_command("check_instruments", *args, "--no-progress", stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def down_backend():
    """An nb2workflow instrument whose backend is not running."""
    return Instrument.objects.create(
        name="offline", kind="nb2workflow", settings={"url": f"http://127.0.0.1:{free_port()}", "timeout_s": 2}
    )


def test_every_enabled_builtin_answers():
    output = check()
    assert "ok   empty (empty," in output
    assert "ok   empty-async" in output
    assert "All " in output


def test_a_backend_that_is_down_is_named_and_the_exit_code_says_so(down_backend):
    out = io.StringIO()
    with pytest.raises(CommandError, match=r"1 of \d+ backend\(s\) down: offline") as refused:
        call_command("check_instruments", "--no-progress", stdout=out, stderr=io.StringIO())
    assert refused.value.returncode == 1
    assert "DOWN offline (nb2workflow" in out.getvalue()
    assert "ok   empty (empty," in out.getvalue()


def test_one_instrument_can_be_checked_alone(down_backend):
    assert "offline" not in check("--instrument", "empty")
    with pytest.raises(CommandError, match="not enabled or not installed: nope"):
        check("--instrument", "nope")


def test_a_disabled_instrument_is_not_checked(down_backend):
    down_backend.enabled = False
    down_backend.save()
    assert "offline" not in check()


def test_the_admin_action_checks_the_backend(admin_client, down_backend):
    empty = Instrument.objects.get(name="empty")
    response = admin_client.post(
        "/admin/instruments/instrument/",
        {"action": "check_backend", "_selected_action": [empty.pk, down_backend.pk]},
        follow=True,
    )
    shown = [str(message) for message in response.context["messages"]]
    assert any(text.startswith("empty: up") for text in shown), shown
    assert any(text.startswith("offline: DOWN") for text in shown), shown
