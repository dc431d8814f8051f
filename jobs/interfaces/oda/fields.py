"""A protocol request's fields as one flat dict, and the fields that steer an answer rather than a job."""

from __future__ import annotations

import secrets
import string
from typing import Any

from django.http import QueryDict

from dispatcher_site.inputs import RepeatedValues
from instruments.base import PROTOCOL_FIELDS
from jobs.errors import InvalidRequest

NEW_SESSION = "new"  # what the frontend sends as session_id before it has one
_SESSION_ALPHABET = string.ascii_uppercase + string.digits


def fields_of(query: QueryDict) -> dict[str, Any]:
    """Each field's value; a field sent several times keeps all its values, in order.

    The frontend's multipart forms send a list parameter as repeated fields; the
    parameter then takes them as its items, and any other refuses them
    (``RepeatedValues``), instead of the last one silently winning. A protocol
    field (instrument, job_id, token...) means one thing: sent twice, it is refused here.
    """
    fields: dict[str, Any] = {}
    for key, values in query.lists():
        if len(values) > 1 and key in PROTOCOL_FIELDS:
            raise InvalidRequest(f"{key} was sent {len(values)} times; send it once.")
        fields[key] = values[0] if len(values) == 1 else RepeatedValues(values)
    return fields


def session_generated() -> str:
    """A session id like oda-api's own: 16 characters of [A-Z0-9]."""
    return "".join(secrets.choice(_SESSION_ALPHABET) for _ in range(16))


def progress_wanted(data: dict[str, Any]) -> bool:
    """The frontend's "Return progress": ``return_progress=True``."""
    return str(data.get("return_progress") or "").strip().lower() == "true"
