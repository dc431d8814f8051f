"""The bot's Matrix client, shared by the transport and the matrix_bot command."""

from __future__ import annotations

from django.conf import settings
from nio import AsyncClient, AsyncClientConfig

# nio retries rate-limited and timed-out requests forever by default; these bound it.
MAX_RATE_LIMITED = 3
MAX_TIMEOUTS = 1


def matrix_configured() -> bool:
    return bool(settings.MATRIX_HOMESERVER and settings.MATRIX_USER_ID and settings.MATRIX_ACCESS_TOKEN)


def matrix_missing() -> list[str]:
    """The variables still needed to turn Matrix on, for the log line that says it is off."""
    needed = {
        "DISPATCHER_MATRIX_HOMESERVER": settings.MATRIX_HOMESERVER,
        "DISPATCHER_MATRIX_USER_ID": settings.MATRIX_USER_ID,
        "DISPATCHER_MATRIX_ACCESS_TOKEN": settings.MATRIX_ACCESS_TOKEN,
    }
    return [name for name, value in needed.items() if not value]


def matrix_client(*, request_timeout_s: float | None = None) -> AsyncClient:
    """A client logged in with the configured access token (no store: no E2EE)."""
    config = AsyncClientConfig(
        max_limit_exceeded=MAX_RATE_LIMITED,
        max_timeouts=MAX_TIMEOUTS,
        backoff_factor=0.5,
        max_timeout_retry_wait_time=10,
        request_timeout=request_timeout_s or settings.MATRIX_REQUEST_TIMEOUT_S,
        encryption_enabled=False,
        store_sync_tokens=False,
    )
    client = AsyncClient(settings.MATRIX_HOMESERVER.rstrip("/"), settings.MATRIX_USER_ID, config=config)
    client.access_token = settings.MATRIX_ACCESS_TOKEN
    client.user_id = settings.MATRIX_USER_ID
    return client
