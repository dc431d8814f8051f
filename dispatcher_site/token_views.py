"""The protocol's token endpoints: re-signing a caller's token with a later expiry or new options.

Both answer the new token as text/plain (what oda-api reads) and errors as the
protocol's JSON (``jobs.interfaces.oda.errors``): they are served beside it, at / and
under /dispatch-data/. A token is a secret: it never appears in a log line or an
error, and the answers are not cached.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache

from dispatcher_site.auth import ROLE_REFRESH_TOKENS, Caller, TokenRequired, caller_from_request, require_roles
from dispatcher_site.errors import InvalidRequest, get_only
from dispatcher_site.tokens import token_refresh, token_update_options
from jobs.interfaces.oda.errors import oda_errors

logger = logging.getLogger(__name__)

# The notification options a token may carry (docs/protocol.md, "Notifications"), by kind of value.
FLAG_OPTIONS = ("mssub", "msdone", "msfail", "mstout", "mxsub", "mxdone", "mxfail", "mxstout")
SECONDS_OPTIONS = ("intsub", "tem", "mxintsub", "tmx")
TEXT_OPTIONS = ("mxroomid",)

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def _token_text(token: str) -> HttpResponse:
    return HttpResponse(token, content_type="text/plain; charset=utf-8")


def _caller_with_token(request: HttpRequest) -> Caller:
    caller = caller_from_request(request)
    if caller.is_public:
        raise TokenRequired()
    return caller


@get_only
@never_cache
@oda_errors
def refresh_token(request: HttpRequest) -> HttpResponse:
    """``?token=&refresh_interval=``: the token valid ``refresh_interval`` s longer (role refresh-tokens)."""
    caller = _caller_with_token(request)
    require_roles(caller, [ROLE_REFRESH_TOKENS], what="refresh your token")
    interval = refresh_interval_parse(request.GET.get("refresh_interval"))
    token = token_refresh(claims=caller.claims, interval_s=interval)
    logger.info("refreshed the token of %s by up to %.0f s", caller.sub, interval)
    return _token_text(token)


@get_only
@never_cache
@oda_errors
def update_token_email_options(request: HttpRequest) -> HttpResponse:
    """``?token=&msdone=&mssub=&...``: the token with those notification options set, expiry unchanged."""
    caller = _caller_with_token(request)
    options = token_options_parse(request.GET)
    token = token_update_options(claims=caller.claims, options=options)
    logger.info("updated the options %s of the token of %s", sorted(options), caller.sub)
    return _token_text(token)


def refresh_interval_parse(raw: str | None) -> float:
    """Seconds to add; by default as much as the site allows (oda-api sends no interval)."""
    if raw is None or not raw.strip():
        return float(settings.TOKEN_MAX_REFRESH_S)
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds <= 0:
        raise InvalidRequest("refresh_interval must be a positive number of seconds.")
    return seconds


def token_options_parse(params: Any) -> dict[str, Any]:
    """The notification options present in ``params``, typed; InvalidRequest names a bad one."""
    options: dict[str, Any] = {}
    for name in FLAG_OPTIONS:
        if name in params:
            options[name] = _flag(name, params[name])
    for name in SECONDS_OPTIONS:
        if name in params:
            options[name] = _seconds(name, params[name])
    for name in TEXT_OPTIONS:
        if name in params:
            options[name] = _text(name, params[name])
    return options


def _flag(name: str, raw: str) -> bool:
    # oda-api sends Python's str(False): "False".
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise InvalidRequest(f"{name} must be true or false (or 1 or 0).")


def _seconds(name: str, raw: str) -> int:
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < 0:
        raise InvalidRequest(f"{name} must be a number of seconds, 0 or more.")
    return round(seconds)


def _text(name: str, raw: str) -> str:
    value = raw.strip()
    if len(value) > 255:
        raise InvalidRequest(f"{name} must be at most 255 characters.")
    return value
