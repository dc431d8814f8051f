"""One transport per channel behind one interface: ``send(delivery, message)``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from notifications.messages import Message
    from notifications.models import Delivery


class TransportError(Exception):
    """A send that did not happen.

    ``permanent``: trying again cannot help (bad address, bot not invited).
    ``room_state``: what the failure tells about a Matrix room, if anything.
    """

    def __init__(self, message: str, *, permanent: bool = False, room_state: str = ""):
        super().__init__(message)
        self.permanent = permanent
        self.room_state = room_state


class Transport(Protocol):
    def send(self, delivery: Delivery, message: Message) -> None: ...


def transport_for(channel: str) -> Transport:
    # Imported here: only the channel in use pays for its client library.
    if channel == "email":
        from notifications.transports.email import EmailTransport

        return EmailTransport()
    if channel == "matrix":
        from notifications.transports.matrix import MatrixTransport

        return MatrixTransport()
    raise ValueError(f"no transport for channel {channel!r}")
