"""The Matrix bot: joins rooms it is invited to and answers ``!status <job id>``.

One long-running matrix-nio client (``manage.py matrix_bot``). It keeps its sync
position in the database, so a restart neither replays old commands nor misses
invites sent while it was down.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import ClientError
from asgiref.sync import sync_to_async
from django.db import close_old_connections
from nio import (
    AsyncClient,
    InviteMemberEvent,
    JoinError,
    RoomEncryptionEvent,
    RoomMessageText,
    RoomSendResponse,
    SyncResponse,
    WhoamiResponse,
)

from notifications import botstate, rooms
from notifications.matrix import matrix_client
from notifications.messages import message_for_status
from notifications.models import MatrixRoom
from notifications.transports.matrix import matrix_content

logger = logging.getLogger(__name__)

NEXT_BATCH_KEY = "matrix.next_batch"
STATUS_COMMAND = "!status"
_FATAL_CODES = {"M_UNKNOWN_TOKEN", "M_MISSING_TOKEN"}


class BotCredentialsError(Exception):
    """The homeserver refuses the bot's access token: no retry can help."""


async def _db(function: Callable[..., Any], **kwargs: Any) -> Any:
    """Run ORM work off the event loop; a long-lived process drops stale connections first."""

    def call() -> Any:
        close_old_connections()
        return function(**kwargs)

    return await sync_to_async(call, thread_sensitive=True)()


class MatrixBot:
    def __init__(self, *, sync_timeout_ms: int = 30_000, max_backoff_s: float = 30.0):
        self.sync_timeout_ms = sync_timeout_ms
        self.max_backoff_s = max_backoff_s
        self.client: AsyncClient = matrix_client(request_timeout_s=sync_timeout_ms / 1000 + 30)
        self.user_id = self.client.user_id
        self.failures = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Sync until ``stop`` is set; raises BotCredentialsError on a refused token."""
        try:
            await self._until_stopped(stop, self._check_credentials)
            next_batch = await _db(botstate.bot_state_get, key=NEXT_BATCH_KEY)
            logger.info("Matrix bot %s syncing from %s", self.user_id, next_batch or "the start")
            while not stop.is_set():
                await self._until_stopped(stop, self._sync_once)
        finally:
            await self.client.close()

    async def _until_stopped(self, stop: asyncio.Event, step: Callable[[], Any]) -> None:
        """Repeat ``step`` until it succeeds or ``stop`` is set, backing off on failures."""
        while not stop.is_set():
            work = asyncio.ensure_future(step())
            stopped = asyncio.ensure_future(stop.wait())
            done, _ = await asyncio.wait({work, stopped}, return_when=asyncio.FIRST_COMPLETED)
            stopped.cancel()
            if work not in done:
                work.cancel()
                return
            delay = self._delay_after(work)
            if delay is None:
                return
            try:
                await asyncio.wait_for(stop.wait(), timeout=delay)
            except TimeoutError:
                pass

    def _delay_after(self, work: asyncio.Future) -> float | None:
        """None when the step succeeded, else how long to wait before the next try."""
        error = work.exception()
        if error is None:
            self.failures = 0
            return None
        if isinstance(error, BotCredentialsError):
            raise error
        self.failures += 1
        if not isinstance(error, ClientError | TimeoutError | _RetryLater):
            logger.error("Matrix bot step failed", exc_info=error)
        # The homeserver's retry_after_ms wins over our own backoff.
        delay = getattr(error, "retry_after_s", None) or min(self.max_backoff_s, 0.5 * 2 ** min(self.failures, 10))
        logger.warning("Matrix homeserver trouble (%s); next try in %.1f s", str(error) or type(error).__name__, delay)
        return delay

    async def _check_credentials(self) -> None:
        response = await self.client.whoami()
        if isinstance(response, WhoamiResponse):
            logger.info("Matrix bot logged in as %s", response.user_id)
            self.user_id = self.client.user_id = response.user_id
            return
        _raise_for(response)

    async def _sync_once(self) -> None:
        since = await _db(botstate.bot_state_get, key=NEXT_BATCH_KEY)
        response = await self.client.sync(timeout=self.sync_timeout_ms, since=since or None, full_state=not since)
        if not isinstance(response, SyncResponse):
            _raise_for(response)
        await self._handle(response, replay_safe=bool(since))
        # Saved after handling: a crash in between answers a command twice at
        # worst, and the reply's transaction id makes the homeserver drop that.
        await _db(botstate.bot_state_set, key=NEXT_BATCH_KEY, value=response.next_batch)

    async def _handle(self, response: SyncResponse, *, replay_safe: bool) -> None:
        for room_id, info in response.rooms.invite.items():
            await self._on_invite(room_id, info.invite_state)
        for room_id, info in response.rooms.join.items():
            await self._on_joined(room_id, [*info.state, *info.timeline.events], commands=replay_safe)
        for room_id in response.rooms.leave:
            await _db(rooms.room_record_state, room_id=room_id, state=MatrixRoom.State.LEFT)

    async def _on_invite(self, room_id: str, invite_state: list) -> None:
        invite = next(
            (
                event
                for event in invite_state
                if isinstance(event, InviteMemberEvent)
                and event.state_key == self.user_id
                and event.membership == "invite"
            ),
            None,
        )
        if invite is None:
            return  # an invite for someone else that the room shows us
        await _db(rooms.room_record_invite, room_id=room_id, invited_by=invite.sender)
        response = await self.client.join(room_id)
        if isinstance(response, JoinError):
            logger.warning("could not join %s: %s", room_id, response)
            await _db(rooms.room_record_state, room_id=room_id, state=MatrixRoom.State.FAILED, error=str(response))
            return
        logger.info("joined %s, invited by %s", room_id, invite.sender)
        await _db(rooms.room_record_state, room_id=room_id, state=MatrixRoom.State.JOINED)

    async def _on_joined(self, room_id: str, events: list, *, commands: bool) -> None:
        state = MatrixRoom.State.JOINED
        if any(isinstance(event, RoomEncryptionEvent) for event in events):
            state = MatrixRoom.State.ENCRYPTED
        await _db(rooms.room_record_state, room_id=room_id, state=state)
        if not commands or state == MatrixRoom.State.ENCRYPTED:
            return  # the first sync shows history: never answer old commands
        for event in events:
            if isinstance(event, RoomMessageText) and event.sender != self.user_id:
                await self._on_message(room_id, event)

    async def _on_message(self, room_id: str, event: RoomMessageText) -> None:
        words = event.body.strip().split()
        if not words or words[0] != STATUS_COMMAND:
            return
        asked = words[1] if len(words) > 1 else ""
        logger.info("answering %s in %s (event %s)", STATUS_COMMAND, room_id, event.event_id)
        message = await _db(_status_message, room_id=room_id, asked=asked)
        # The command's event id makes the reply's transaction id: answered once.
        response = await self.client.room_send(
            room_id, "m.room.message", matrix_content(message), tx_id=f"status-{event.event_id}"
        )
        if not isinstance(response, RoomSendResponse):
            logger.warning("could not answer in %s: %s", room_id, response)


def _status_message(*, room_id: str, asked: str):
    return message_for_status(rooms.room_for_job(room_id=room_id, job_ref=asked), asked=asked)


class _RetryLater(Exception):
    def __init__(self, message: str, retry_after_s: float | None = None):
        super().__init__(message)
        self.retry_after_s = retry_after_s


def _raise_for(response: Any) -> None:
    code = getattr(response, "status_code", None)
    if code in _FATAL_CODES:
        raise BotCredentialsError(f"the homeserver refuses the bot's access token: {response}")
    retry_after_ms = getattr(response, "retry_after_ms", None)
    raise _RetryLater(str(response), retry_after_ms / 1000 if retry_after_ms else None)
