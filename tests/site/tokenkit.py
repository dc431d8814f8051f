"""Making tokens for tests: the platform's way, or an attacker's."""

import base64
import hashlib
import hmac
import json
import time

import jwt
from django.conf import settings


def sign(claims: dict | None = None, *, secret: str | None = None, algorithm: str = "HS256", **more) -> str:
    """A token with alice's claims by default, signed like the platform does (or otherwise, for attacks)."""
    payload = {
        "sub": "alice@example.org",
        "email": "alice@example.org",
        "name": "Alice",
        "roles": ["general"],
        "exp": int(time.time()) + 3600,
    }
    payload.update(claims or {})
    payload.update(more)
    payload = {key: value for key, value in payload.items() if value is not None}
    key = settings.TOKEN_SECRET if secret is None else secret
    return jwt.encode(payload, key if algorithm != "none" else None, algorithm=algorithm)


def forge(header: dict, payload: dict, *, key: str | None = None) -> str:
    """A hand-made token: any header, HMAC-SHA256 over it with ``key`` (or no signature at all)."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = f"{part(json.dumps(header).encode())}.{part(json.dumps(payload).encode())}"
    if key is None:
        return signing_input + "."
    signature = hmac.new(key.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{part(signature)}"


def alice_claims(**changes) -> dict:
    claims = {"sub": "alice@example.org", "name": "Alice", "roles": ["general"], "exp": int(time.time()) + 3600}
    claims.update(changes)
    return claims
