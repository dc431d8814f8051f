"""Who is calling: the platform's JWT tokens, verified with simplejwt, and role checks.

A request carries its token in the ``token`` parameter (query or form, as the
protocol sends it) or in ``Authorization: Bearer``; without one the caller is
public. Verification needs no database: the token is the identity. A Django
user is kept in step with the token only so that staff see people in the admin,
and only when something changed since this process last looked.

Role checks happen in ``require_roles`` and nowhere else. No error text,
repr or log line here ever contains the raw token.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import jwt
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import DatabaseError, transaction
from django.http import HttpRequest
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import APIException
from rest_framework_simplejwt.exceptions import ExpiredTokenError, TokenError
from rest_framework_simplejwt.models import TokenUser
from rest_framework_simplejwt.tokens import Token

from dispatcher_site.errors import ServiceError
from dispatcher_site.inputs import json_problem
from dispatcher_site.roles import Guarded, RolesNeeded
from dispatcher_site.tokens import token_backend

logger = logging.getLogger(__name__)

ROLE_JOB_MANAGER = "job manager"
ROLE_REFRESH_TOKENS = "refresh-tokens"

# Real tokens are well under 2 KB; refusing huge values early keeps decoding cheap.
MAX_TOKEN_LENGTH = 16 * 1024
# A job's owner is the token's sub, an email address: at most 254 characters (Job.owner's length).
MAX_SUB_LENGTH = 254
# The last second of the year 9999, the end of Python's datetime: a later exp is no time.
MAX_EXP = 253_402_300_799

# The earlier dispatcher's texts, which clients and scripts compare verbatim: kept word
# for word, spelling included ("resubmit you request", "priviledges").
_RELOGIN = (
    "please try to logout and login again. If already logged out, please clean the cookies, and resubmit you request."
)
_TOKEN_REQUIRED = "A token must be provided."  # noqa: S105 - a message, not a secret
_INSTRUMENT_REFUSED = "Unfortunately, your priviledges are not sufficient to make the request for this instrument.\n"
_PRODUCT_REFUSED = (
    "Unfortunately, your priviledges are not sufficient to make the request"
    " for this particular product and parameter combination.\n"
    "- Your priviledge roles include {held}\n"
    "- You are lacking all of the following roles:\n"
    "{lacking}\n"
    "You can request support if you think you should be able to make this request."
)
_NO_REASON = "please refer to support for details"
_ACTION_REFUSED = (
    "Unfortunately, your privileges are not sufficient to {action}.\n"
    "Your privilege roles include {held}, but the following roles are missing: {lacking}."
)


# --- errors -----------------------------------------------------------------------------------


class AuthError(ServiceError):
    """Base of the authentication and authorization errors; ``message`` is safe to show users."""

    status_code = 403
    code = "forbidden"


class TokenRequired(AuthError):
    code = "token_required"

    def __init__(self) -> None:
        super().__init__(_TOKEN_REQUIRED)


class TokenExpired(AuthError):
    code = "token_expired"

    def __init__(self) -> None:
        super().__init__(f"The token provided is expired, {_RELOGIN}")


class TokenInvalid(AuthError):
    """A token we refuse. Without a ``reason`` (a bad signature) the earlier dispatcher's very text."""

    code = "token_invalid"

    def __init__(self, reason: str | None = None):
        super().__init__(
            f"The token provided is not valid, {reason}; {_RELOGIN}"
            if reason
            else f"The token provided is not valid, {_RELOGIN}"
        )


class TokenMalformed(AuthError):
    status_code = 400
    code = "token_malformed"

    def __init__(self, reason: str = "it is not a JSON Web Token (three base64url parts separated by dots)"):
        super().__init__(f"The token provided is malformed: {reason}. Please check that the whole token was sent.")


class RolesMissing(AuthError):
    """The caller lacks roles; worded by what the roles guard (``dispatcher_site.roles``)."""

    code = "roles_missing"

    def __init__(self, missing: list[str], *, what: str, held: list[str], needed: RolesNeeded):
        self.missing = missing
        if needed.guarded is Guarded.INSTRUMENT:
            message = _INSTRUMENT_REFUSED
        elif needed.guarded is Guarded.PRODUCT:
            lacking = "\n".join(f" - {role}: {needed.reasons.get(role, _NO_REASON)}" for role in missing)
            message = _PRODUCT_REFUSED.format(held=held, lacking=lacking)
        else:
            message = _ACTION_REFUSED.format(action=what, held=held, lacking=", ".join(missing))
        super().__init__(message)


# --- the caller -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    """The person behind a request, as their token says; ``sub`` is "" for public requests."""

    sub: str = ""
    email: str = ""
    name: str = ""
    roles: frozenset[str] = frozenset()
    # Everything the token claimed (exp, notification options...); safe to store, unlike the token.
    claims: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    # The raw token: kept out of repr so that it cannot reach a log line or an error page.
    token: str | None = field(default=None, repr=False, compare=False, hash=False)
    # A staff member logged in to the admin (no token): may read every job's page.
    is_staff: bool = False

    @classmethod
    def public(cls) -> Caller:
        return cls()

    @property
    def is_public(self) -> bool:
        return not self.sub

    @property
    def is_job_manager(self) -> bool:
        return ROLE_JOB_MANAGER in self.roles

    def missing_roles(self, roles: Iterable[str] | str) -> list[str]:
        return sorted(set(roles_parse(roles)) - self.roles)

    def has_roles(self, roles: Iterable[str] | str) -> bool:
        return not self.missing_roles(roles)

    def roles_as_given(self) -> list[str]:
        """The token's roles in its own order, as refusals quote them (``[]`` for the public)."""
        given = self.claims.get("roles")
        if isinstance(given, str):
            given = given.split(",")
        if not isinstance(given, list | tuple):
            return sorted(self.roles)
        return [str(role).strip() for role in given]


def roles_parse(value: Any) -> frozenset[str]:
    """Roles from a token or a setting: a list, or a comma-separated string."""
    if value is None:
        return frozenset()
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list | tuple | set | frozenset):
        raise TokenInvalid("its roles claim is neither a list nor a comma-separated string")
    return frozenset(str(role).strip() for role in value if str(role).strip())


def require_roles(caller: Caller, roles: Iterable[str] | str, *, what: str) -> None:
    """Raise RolesMissing unless the caller has every role.

    ``roles`` may be a ``RolesNeeded`` saying what they guard (an instrument, a
    product) and why each is needed; plain roles guard an action, and ``what``
    completes "your privileges are not sufficient to ...", e.g. "refresh your
    token". A public caller asked for an action's roles is told to give a token.
    """
    needed = roles if isinstance(roles, RolesNeeded) else RolesNeeded(roles_parse(roles))
    missing = caller.missing_roles(needed)
    if not missing:
        return
    if caller.is_public and needed.guarded is Guarded.ACTION:
        raise TokenRequired()
    raise RolesMissing(missing, what=what, held=caller.roles_as_given(), needed=needed)


def caller_may_use(caller: Caller, roles: Iterable[str] | str) -> bool:
    """Whether the caller holds all the roles (for filtering lists, e.g. of instruments)."""
    return caller.has_roles(roles)


# --- verification -----------------------------------------------------------------------------


class _NoExpiry(TokenError):
    pass


class _BadExpiry(TokenError):
    pass


class PlatformToken(Token):
    """The platform's tokens, as simplejwt sees them: no token type, no jti, only ``exp`` required."""

    token_type = "platform"  # noqa: S105 - a label, never checked: SIMPLE_JWT has TOKEN_TYPE_CLAIM = None
    lifetime = timedelta(hours=24)  # only used when building a new token, which we never do here

    @property
    def token_backend(self):  # re-read per call so that settings overrides apply
        return token_backend()

    def verify(self) -> None:
        if "exp" not in self.payload:
            # A token without expiry would be valid forever: refuse it.
            raise _NoExpiry()
        exp = self.payload["exp"]
        # simplejwt reads it as a datetime: a text, a list or 1e300 would end in a TypeError or an OverflowError.
        if isinstance(exp, bool) or not isinstance(exp, int | float) or not 0 <= exp <= MAX_EXP:
            raise _BadExpiry()
        try:
            self.check_exp()
        except TokenError as exc:
            raise ExpiredTokenError("expired") from exc


def claims_verify(raw: str) -> dict[str, Any]:
    """The token's claims once signature, algorithm (HS256 only) and expiry are checked."""
    _check_shape(raw)
    try:
        return PlatformToken(raw).payload
    except ExpiredTokenError:
        raise TokenExpired() from None
    except TokenError as exc:
        raise TokenInvalid(_why_invalid(exc)) from None
    except (OverflowError, TypeError, ValueError):
        # PyJWT's int() of a signed exp, iat or nbf that is Infinity or a list.
        raise TokenInvalid("its times (exp, iat, nbf claims) must be numbers of seconds since 1970") from None


def _check_shape(raw: str) -> None:
    """Tell a value that is no JWT at all (400) from a JWT we refuse (403)."""
    if len(raw) > MAX_TOKEN_LENGTH:
        raise TokenMalformed(f"it is longer than {MAX_TOKEN_LENGTH} characters")
    try:
        jwt.api_jwt.decode_complete(raw, options={"verify_signature": False})
    except jwt.DecodeError:
        raise TokenMalformed() from None
    except jwt.InvalidTokenError:
        pass  # well-formed; the verified decode reports what is wrong with it


def _why_invalid(exc: BaseException) -> str | None:
    """A user-facing reason, from the PyJWT error at the bottom of simplejwt's chain."""
    if isinstance(exc, _NoExpiry):
        return "it has no expiry (exp claim)"
    if isinstance(exc, _BadExpiry):
        return "its expiry (exp claim) must be a number of seconds since 1970, before the year 10000"
    while exc.__cause__ is not None:
        exc = exc.__cause__
    if isinstance(exc, jwt.InvalidAlgorithmError):
        return "it must be signed with HS256"
    if isinstance(exc, jwt.InvalidSignatureError):
        return None  # the earlier dispatcher's text, which clients compare, gives no reason
    return "its claims are not acceptable"


def caller_from_claims(claims: dict[str, Any], *, token: str | None = None) -> Caller:
    """The caller a verified token describes; ``sub`` falls back to ``email``."""
    # Jobs keep the claims and the user: text no database stores is refused here, once.
    problem = json_problem(claims)
    if problem:
        raise TokenInvalid(f"a claim is refused: {problem}")
    sub = str(claims.get("sub") or claims.get("email") or "").strip()
    if not sub:
        raise TokenInvalid("it names no user (no sub or email claim)")
    if len(sub) > MAX_SUB_LENGTH:
        raise TokenInvalid(f"its user (sub claim) is longer than {MAX_SUB_LENGTH} characters")
    email = str(claims.get("email") or (sub if "@" in sub else ""))
    return Caller(
        sub=sub,
        email=email,
        name=str(claims.get("name") or ""),
        roles=roles_parse(claims.get("roles")),
        claims=dict(claims),
        token=token,
    )


def caller_from_token(raw: str) -> Caller:
    """Verify a raw token and describe its holder; raises an AuthError."""
    return caller_from_claims(claims_verify(raw), token=raw)


def token_from_request(request: HttpRequest) -> str | None:
    """The raw token of a request: ``token`` in the query or form body, else ``Authorization: Bearer``."""
    raw = request.GET.get("token")
    if not raw and request.method == "POST":
        raw = request.POST.get("token")
    if not raw:
        raw = _bearer(request)
    return raw.strip() if raw and raw.strip() else None


def _bearer(request: Any) -> str | None:
    scheme, _, value = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def caller_from_request(request: HttpRequest, *, staff_session: bool = False) -> Caller:
    """The caller of a request (public without a token); raises an AuthError for a bad token.

    ``staff_session`` lets a request without a token be a staff member logged in
    to the admin. Only read-only pages opt in: the protocol's endpoints are not
    protected against cross-site requests, so a session must never act there.
    Remembered on the request, so several callers in one request verify once.
    """
    cached = getattr(request, "_dispatcher_caller", None)
    if cached is not None:
        return cached
    raw = token_from_request(request)
    if raw is not None:
        caller = caller_from_token(raw)
        user_sync(caller)
    elif staff_session and _is_staff(request):
        caller = Caller(sub=request.user.get_username(), email=request.user.email, is_staff=True)
    else:
        caller = Caller.public()
    request._dispatcher_caller = caller
    return caller


def _is_staff(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_staff)


# --- the Django user, for the admin -----------------------------------------------------------

# sub -> (email, name) last written by this process; bounded so a flood of subs cannot grow it.
_synced: dict[str, tuple[str, str]] = {}
_SYNCED_MAX = 10_000


def user_sync(caller: Caller) -> None:
    """Create or update the caller's Django user, unless this process already did with these values."""
    seen = (caller.email, caller.name)
    if _synced.get(caller.sub) == seen:
        return
    try:
        # A savepoint: a failure here must not break a transaction the view may hold.
        with transaction.atomic():
            _user_upsert(caller)
    except DatabaseError as exc:
        # The user row is bookkeeping for the admin; the request itself can go on.
        logger.warning("could not record user %s: %s", caller.sub, type(exc).__name__)
        return
    if len(_synced) >= _SYNCED_MAX:
        _synced.clear()
    _synced[caller.sub] = seen


def user_sync_forget() -> None:
    """Forget which users were synced (tests, whose database rolls back between cases)."""
    _synced.clear()


def _user_upsert(caller: Caller) -> None:
    user_model = get_user_model()
    username, first_name = caller.sub[:150], caller.name[:150]
    user, created = user_model.objects.get_or_create(
        username=username,
        # No password: these people log in through the platform, never here.
        defaults={"email": caller.email, "first_name": first_name, "password": make_password(None)},
    )
    if not created and (user.email, user.first_name) != (caller.email, first_name):
        user_model.objects.filter(pk=user.pk).update(email=caller.email, first_name=first_name)


# --- Django REST framework --------------------------------------------------------------------


class AuthFailed(APIException):
    """An AuthError inside DRF, keeping its status (403, or 400 for a malformed token) and text."""

    def __init__(self, error: AuthError):
        super().__init__(detail=error.message)
        self.status_code = error.status_code
        self.message = error.message
        self.auth_error = error


class PlatformTokenAuthentication(BaseAuthentication):
    """DRF authentication by ``Authorization: Bearer <token>`` (or ``?token=``), verified as above.

    ``request.user`` becomes a simplejwt ``TokenUser`` (no database), ``request.auth`` the Caller;
    without a token the request stays anonymous: use ``caller_of(request)``.
    """

    def authenticate(self, request: Any) -> tuple[TokenUser, Caller] | None:
        raw = _bearer(request) or request.query_params.get("token") or None
        if raw is None:
            return None
        try:
            caller = caller_from_token(raw.strip())
        except AuthError as error:
            raise AuthFailed(error) from None
        user_sync(caller)
        return TokenUser({"sub": caller.sub, "username": caller.sub}), caller

    def authenticate_header(self, request: Any) -> str:
        return 'Bearer realm="api"'


def caller_of(request: Any) -> Caller:
    """The Caller of a DRF request authenticated by PlatformTokenAuthentication, else public."""
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, Caller) else Caller.public()
