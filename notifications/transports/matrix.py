"""Messages to Matrix rooms through matrix-nio: text (m.text), and a done job's preview (m.image).

The preview is uploaded to the homeserver's media repository, then posted as an
m.image naming the mxc:// URL it got; a refused upload is the preview delivery's error.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable

from aiohttp import ClientError
from nio import (
    AsyncClient,
    ErrorResponse,
    JoinedRoomsResponse,
    JoinError,
    RoomGetStateEventResponse,
    RoomSendResponse,
    UploadResponse,
)

from notifications.matrix import matrix_client
from notifications.messages import Message
from notifications.models import Delivery, MatrixRoom
from notifications.transports import TransportError
from notifications.vocabulary import Content

# Errors that no retry mends: the account or the room says no, or the file is too large for the homeserver.
_PERMANENT_CODES = {
    "M_FORBIDDEN", "M_NOT_FOUND", "M_UNKNOWN_TOKEN", "M_MISSING_TOKEN", "M_INVALID_PARAM", "M_TOO_LARGE",
}  # fmt: skip


class MatrixTransport:
    def send(self, delivery: Delivery, message: Message) -> None:
        if delivery.content == Content.PREVIEW:
            if message.image is None:
                raise TransportError("the job has no preview (its products are gone)", permanent=True)
            upload = _uploader(message)
        else:
            upload = None
        content = matrix_content(message)
        asyncio.run(_send(room_id=delivery.recipient, content=content, txn_id=str(delivery.txn_id), upload=upload))


def matrix_content(message: Message) -> dict[str, object]:
    """An m.room.message: plain ``body`` always, HTML beside it only when there is some.

    With an image, an m.image whose ``url`` the upload fills in.
    """
    if message.image is not None:
        info = {"mimetype": "image/png", "size": len(message.image.png), "w": message.image.width,
                "h": message.image.height}  # fmt: skip
        return {"msgtype": "m.image", "body": message.text, "filename": message.image_id, "info": info}
    content = {"msgtype": "m.text", "body": message.text}
    if message.html:
        content.update(format="org.matrix.custom.html", formatted_body=message.html)
    return content


Upload = Callable[[AsyncClient], Awaitable[str]]


async def _send(*, room_id: str, content: dict[str, object], txn_id: str, upload: Upload | None = None) -> None:
    client = matrix_client()
    try:
        await ensure_joined(client, room_id)
        await _refuse_encrypted(client, room_id)
        if upload is not None:
            content = {**content, "url": await upload(client)}
        response = await client.room_send(room_id, "m.room.message", content, tx_id=txn_id)
        if not isinstance(response, RoomSendResponse):
            raise _error("sending failed", response)
    except (ClientError, TimeoutError) as exc:
        raise TransportError(f"homeserver unreachable: {exc or type(exc).__name__}") from exc
    finally:
        await client.close()


def _uploader(message: Message) -> Upload:
    """The upload of the message's image to the media repository; gives its mxc:// URL."""
    png, name = message.image.png, message.image_id

    async def upload(client: AsyncClient) -> str:
        response, _ = await client.upload(
            lambda *_: io.BytesIO(png), content_type="image/png", filename=name, filesize=len(png)
        )
        if not isinstance(response, UploadResponse):
            raise _error("the homeserver refused the preview's upload", response)
        return response.content_uri

    return upload


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
