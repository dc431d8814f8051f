"""The Matrix bot's decisions, with the one network seam (the nio client) replaced."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import pytest
from asgiref.sync import sync_to_async
from django.core.management import call_command
from django.db import connections
from nio import InviteMemberEvent, JoinResponse, RoomSendResponse

from notifications.bot import MatrixBot, _RetryLater
from notifications.matrix import MAX_RATE_LIMITED, MAX_TIMEOUTS, matrix_client
from notifications.models import MatrixRoom

BOT = "@oda-bot:localhost"


class FakeClient:
    def __init__(self):
        self.joined: list[str] = []
        self.sent: list[tuple[str, dict, str]] = []
        self.user_id = BOT

    async def join(self, room_id):
        self.joined.append(room_id)
        return JoinResponse(room_id)

    async def room_send(self, room_id, message_type, content, tx_id=None):
        self.sent.append((room_id, content, tx_id))
        return RoomSendResponse("$answer", room_id)

    async def close(self):
        pass


@pytest.fixture
def bot(configured) -> Iterator[MatrixBot]:
    robot = MatrixBot(sync_timeout_ms=1000, max_backoff_s=8)
    robot.client = FakeClient()
    robot.user_id = BOT
    yield robot
    # The bot's ORM work runs in asgiref's long-lived sync thread; its connection
    # would outlive the test and keep PostgreSQL from dropping the test database.
    asyncio.run(sync_to_async(connections.close_all, thread_sensitive=True)())


def member_event(state_key: str, sender: str = "@alice:localhost") -> InviteMemberEvent:
    return InviteMemberEvent.from_dict(
        {"type": "m.room.member", "sender": sender, "state_key": state_key, "content": {"membership": "invite"}}
    )


@pytest.mark.django_db(transaction=True)
def test_it_joins_only_invites_addressed_to_itself(bot):
    asyncio.run(bot._on_invite("!other:localhost", [member_event("@charlie:localhost")]))
    asyncio.run(bot._on_invite("!mine:localhost", [member_event("@charlie:localhost"), member_event(BOT)]))
    assert bot.client.joined == ["!mine:localhost"]
    room = MatrixRoom.objects.get()
    assert (room.room_id, room.state, room.invited_by) == ("!mine:localhost", "joined", "@alice:localhost")


def test_it_honours_the_homeservers_retry_after_and_backs_off_otherwise(bot):
    def failed(error: Exception) -> asyncio.Future:
        future = asyncio.Future(loop=asyncio.new_event_loop())
        future.set_exception(error)
        return future

    assert bot._delay_after(failed(_RetryLater("M_LIMIT_EXCEEDED", retry_after_s=1.5))) == 1.5
    delays = [bot._delay_after(failed(TimeoutError())) for _ in range(6)]
    assert delays == sorted(delays)
    assert delays[-1] == 8  # capped
    done = asyncio.Future(loop=asyncio.new_event_loop())
    done.set_result(None)
    assert bot._delay_after(done) is None
    assert bot.failures == 0


def test_the_client_never_retries_forever(configured):
    client = matrix_client()
    assert client.config.max_limit_exceeded == MAX_RATE_LIMITED
    assert client.config.max_timeouts == MAX_TIMEOUTS
    asyncio.run(client.close())


def test_the_command_idles_out_cleanly_when_matrix_is_not_configured(configured, caplog):
    configured.MATRIX_HOMESERVER = ""
    with caplog.at_level(logging.INFO, logger="notifications.bot"):
        call_command("matrix_bot")
    assert "Matrix bot not started: DISPATCHER_MATRIX_HOMESERVER not set" in caplog.text
