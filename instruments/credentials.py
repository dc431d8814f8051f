"""Who a backend acts for: the token of a job's owner, lent to the adapters that pass it on.

Some backends act for the person who asked (nb2workflow passes ``_token`` on to
the notebook, and fetches the files the person uploaded with it). Adapters never
touch the ORM, and a job keeps its owner's claims, never the token itself: the
job registry registers a *token source* at start-up (``jobs.apps``), which signs
the owner's claims again for a request. Public requests have no owner and get no
token. Nothing here knows where tokens come from.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from instruments.base import RunRequest

TokenSource = Callable[["RunRequest"], "str | None"]

_source: TokenSource | None = None


def token_source_set(source: TokenSource | None) -> None:
    """Register where owners' tokens come from (None: nowhere, no adapter gets one)."""
    global _source
    _source = source


def owner_token(request: RunRequest) -> str | None:
    """The token of the request's owner, or None for a public request or without a source."""
    if not request.owner or _source is None:
        return None
    return _source(request)
