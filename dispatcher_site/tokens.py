"""Signing the platform's JWT tokens (HS256 with the shared token secret).

Signing and verification both go through simplejwt's ``TokenBackend``, built
from the ``SIMPLE_JWT`` settings, so there is one place that knows the key and
the algorithm.
"""

from __future__ import annotations

import functools
import time
from typing import Any

from django.conf import settings
from rest_framework_simplejwt import settings as simplejwt_settings
from rest_framework_simplejwt.backends import TokenBackend


def token_backend() -> TokenBackend:
    """The backend for the current SIMPLE_JWT settings (re-read so that test overrides apply)."""
    api = simplejwt_settings.api_settings
    return _backend_for(api.ALGORITHM, api.SIGNING_KEY, api.LEEWAY)


@functools.lru_cache(maxsize=4)
def _backend_for(algorithm: str, signing_key: str, leeway: float) -> TokenBackend:
    return TokenBackend(algorithm, signing_key, leeway=leeway)


def token_sign(claims: dict[str, Any]) -> str:
    """The claims signed as a token."""
    return token_backend().encode(claims)


def token_issue(
    *, email: str, roles: list[str], hours: float = 24.0, name: str = "", extra: dict[str, Any] | None = None
) -> str:
    """A token as the platform issues it: ``sub`` is the user's email."""
    claims: dict[str, Any] = {
        "sub": email,
        "email": email,
        "name": name or email.split("@")[0],
        "roles": list(roles),
        "exp": int(time.time() + hours * 3600),
    }
    claims.update(extra or {})
    return token_sign(claims)


def token_refresh(*, claims: dict[str, Any], interval_s: float, now: float | None = None) -> str:
    """The token re-signed with ``exp`` moved ``interval_s`` later, at most TOKEN_MAX_REFRESH_S from now.

    A refresh never shortens a token: one already valid beyond the cap keeps its expiry.
    """
    now = time.time() if now is None else now
    current = float(claims["exp"])
    extended = min(current + interval_s, now + settings.TOKEN_MAX_REFRESH_S)
    return token_sign({**claims, "exp": int(max(current, extended))})


def token_update_options(*, claims: dict[str, Any], options: dict[str, Any]) -> str:
    """The token re-signed with notification options (msdone, mxroomid, ...) set; its expiry unchanged."""
    return token_sign({**claims, **options})
