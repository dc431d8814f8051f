"""Signing the platform's JWT tokens (HS256 with the shared token secret)."""

from __future__ import annotations

import time
from typing import Any

import jwt
from django.conf import settings


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
    return jwt.encode(claims, settings.TOKEN_SECRET, algorithm="HS256")
