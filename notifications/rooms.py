"""Matrix room bookkeeping: what the bot and the senders learn about each room, and which job a room may ask about."""

from __future__ import annotations

from django.utils import timezone

from jobs.models import Job
from notifications.models import MatrixRoom
from notifications.selectors import jobs_by_prefix
from notifications.transports import TransportError
from notifications.vocabulary import Channel


def room_record_invite(*, room_id: str, invited_by: str) -> MatrixRoom:
    """The bot was invited to a room (a re-invite after leaving counts anew)."""
    room, _ = MatrixRoom.objects.get_or_create(room_id=room_id)
    changes = {"state": MatrixRoom.State.INVITED, "invited_by": invited_by, "invited_at": timezone.now()}
    return _room_update(room, changes)


def room_record_state(*, room_id: str, state: str, error: str = "") -> MatrixRoom:
    """A room's new state as the bot saw it; an encrypted room stays marked encrypted."""
    room, _ = MatrixRoom.objects.get_or_create(room_id=room_id)
    if room.state == MatrixRoom.State.ENCRYPTED and state == MatrixRoom.State.JOINED:
        return room
    changes: dict[str, object] = {}
    if state != room.state:
        changes["state"] = state
        if state == MatrixRoom.State.JOINED:
            changes["joined_at"] = timezone.now()
    if error:
        changes["last_error"], changes["last_error_at"] = error, timezone.now()
    return _room_update(room, changes)


def room_record_send(*, room_id: str, error: TransportError | None) -> MatrixRoom:
    """What a send taught about the room, for the admin's room list."""
    room, _ = MatrixRoom.objects.get_or_create(room_id=room_id)
    now = timezone.now()
    if error is None:
        changes = {"state": MatrixRoom.State.JOINED, "last_message_at": now}
        if room.state != MatrixRoom.State.JOINED:
            changes["joined_at"] = room.joined_at or now
    else:
        changes = {"last_error": str(error), "last_error_at": now}
        if error.room_state:
            changes["state"] = error.room_state
    return _room_update(room, changes)


def room_for_job(*, room_id: str, job_ref: str) -> Job | None:
    """The job (by id or a prefix of 8+ characters) if it notifies this room, else None."""
    candidates = jobs_by_prefix(reference=job_ref)
    if len(candidates) != 1:
        return None
    job = candidates[0]
    notifies = (
        job.claims.get("mxroomid") == room_id
        or job.deliveries.filter(channel=Channel.MATRIX, recipient=room_id).exists()
    )
    return job if notifies else None


def _room_update(room: MatrixRoom, changes: dict[str, object]) -> MatrixRoom:
    """Write only the fields this writer changed.

    The bot and the notification workers note different things about one room at
    the same time; saving the whole row would put back what the other just changed.
    """
    for name, value in changes.items():
        setattr(room, name, value)
    if changes:
        room.save(update_fields=[*changes, "updated_at"])
    return room
