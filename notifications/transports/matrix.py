"""Messages to Matrix rooms through matrix-nio."""

from __future__ import annotations

import asyncio

from aiohttp import ClientError
from nio import (
    AsyncClient,
    ErrorResponse,
    JoinedRoomsResponse,
    JoinError,
    RoomGetStateEventResponse,
    RoomSendResponse,
)

from notifications.matrix import matrix_client
from notifications.messages import Message
from notifications.models import Delivery, MatrixRoom
from notifications.transports import TransportError

# Errors that no retry mends: the account or the room says no.
_PERMANENT_CODES = {"M_FORBIDDEN", "M_NOT_FOUND", "M_UNKNOWN_TOKEN", "M_MISSING_TOKEN", "M_INVALID_PARAM"}


class MatrixTransport:
    def send(self, delivery: Delivery, message: Message) -> None:
        content = matrix_content(message)
        asyncio.run(_send(room_id=delivery.recipient, content=content, txn_id=str(delivery.txn_id)))


def matrix_content(message: Message) -> dict[str, str]:
    """An m.room.message: plain ``body`` always, HTML beside it only when there is some."""
    content = {"msgtype": "m.text", "body": message.text}
    if message.html:
        content.update(format="org.matrix.custom.html", formatted_body=message.html)
    return content


async def _send(*, room_id: str, content: dict[str, str], txn_id: str) -> None:
    client = matrix_client()
    try:
        await ensure_joined(client, room_id)
        await _refuse_encrypted(client, room_id)
        response = await client.room_send(room_id, "m.room.message", content, tx_id=txn_id)
        if not isinstance(response, RoomSendResponse):
            raise _error("sending failed", response)
    except (ClientError, TimeoutError) as exc:
        raise TransportError(f"homeserver unreachable: {exc or type(exc).__name__}") from exc
    finally:
        await client.close()


async def ensure_joined(client: AsyncClient, room_id: str) -> None:
    """Join the room unless already in it: a send while only invited is refused (403)."""
    joined = await client.joined_rooms()
    if not isinstance(joined, JoinedRoomsResponse):
        raise _error("cannot list joined rooms", joined)
    if room_id in joined.rooms:
        return
    response = await client.join(room_id)
    if isinstance(response, JoinError):
        error = _error("cannot join the room (was the bot invited?)", response)
        error.room_state = MatrixRoom.State.FAILED if error.permanent else ""
        raise error


async def _refuse_encrypted(client: AsyncClient, room_id: str) -> None:
    # Without E2EE support nio would post plain text into an encrypted room.
    response = await client.room_get_state_event(room_id, "m.room.encryption")
    if isinstance(response, RoomGetStateEventResponse) and response.content:
        raise TransportError(
            "the room is encrypted; the bot posts only to unencrypted rooms",
            permanent=True,
            room_state=MatrixRoom.State.ENCRYPTED,
        )


def _error(what: str, response: ErrorResponse) -> TransportError:
    code = getattr(response, "status_code", None) or ""
    text = getattr(response, "message", "") or "unknown error"
    return TransportError(f"{what}: {code} {text}".strip(), permanent=code in _PERMANENT_CODES)
