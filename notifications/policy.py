"""Who is told what about a job event, and when: the rules of docs/protocol.md ("Notifications").

Pure: no database, no settings, no clock. The caller gathers the facts
(notifications.selectors) and records what this decides (notifications.deliveries).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from notifications.vocabulary import Channel, Event, Outcome, Role

# The token's option names for each channel: (enabled per event, "done only if
# slow", threshold, minimum interval between submitted notices).
_OPTION_NAMES = {
    Channel.EMAIL: {Event.SUBMITTED: "mssub", Event.DONE: "msdone", Event.FAILED: "msfail", "stout": "mstout",
                    "threshold": "tem", "interval": "intsub"},
    Channel.MATRIX: {Event.SUBMITTED: "mxsub", Event.DONE: "mxdone", Event.FAILED: "mxfail", "stout": "mxstout",
                     "threshold": "tmx", "interval": "mxintsub"},
}  # fmt: skip
_BOOLEAN_OPTIONS = {"mssub", "msdone", "msfail", "mstout", "mxsub", "mxdone", "mxfail", "mxstout"}
_NUMBER_OPTIONS = {"tem", "intsub", "tmx", "mxintsub"}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class SiteRules:
    """Site defaults and the site's own copy and incident recipients."""

    defaults: Mapping[str, object]
    email_enabled: bool = True
    matrix_enabled: bool = True
    email_bcc: tuple[str, ...] = ()
    matrix_bcc_rooms: tuple[str, ...] = ()
    matrix_incident_rooms: tuple[str, ...] = ()


@dataclass(frozen=True)
class History:
    """What this job's earlier events already caused, per (channel, recipient)."""

    last_submitted_at: Mapping[tuple[str, str], datetime] = field(default_factory=dict)
    done_planned: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True)
class Planned:
    channel: str
    event: str
    recipient: str
    outcome: str  # pending (to send), skipped or refused
    role: str = Role.OWNER
    reason: str = ""
    bcc: tuple[str, ...] = ()


def plan_deliveries(
    *,
    event: str,
    owner: str,
    duration_s: float | None,
    claims: Mapping[str, object],
    saved: Mapping[str, object],
    site: SiteRules,
    history: History,
    now: datetime,
) -> list[Planned]:
    """The deliveries that a job event calls for, with their first outcome."""
    if not owner or event not in Event.values:
        return []  # public requests are never notified
    options = resolve_options(claims=claims, saved=saved, defaults=site.defaults)
    context = _Context(event=event, duration_s=duration_s, options=options, history=history, now=now)
    planned: list[Planned] = []
    if site.email_enabled:
        planned += _email(context, owner=owner, site=site)
    if site.matrix_enabled:
        planned += _matrix(context, site=site)
    return planned


def resolve_options(
    *, claims: Mapping[str, object], saved: Mapping[str, object], defaults: Mapping[str, object]
) -> dict[str, object]:
    """Each option from the token's claims, else the saved preferences, else the site default.

    A malformed value (``msdone="maybe"``) counts as absent rather than as false.
    """
    resolved: dict[str, object] = {}
    for name in {*defaults, *saved, *claims}:
        for source in (claims, saved, defaults):
            value = _parse(name, source.get(name))
            if value is not None:
                resolved[name] = value
                break
    return resolved


@dataclass(frozen=True)
class _Context:
    event: str
    duration_s: float | None
    options: Mapping[str, object]
    history: History
    now: datetime


def _email(context: _Context, *, owner: str, site: SiteRules) -> list[Planned]:
    address = str(context.options.get("email") or owner)
    if "@" not in address or not _wanted(context, Channel.EMAIL):
        return []
    outcome, reason = _judge(context, Channel.EMAIL, address)
    return [Planned(Channel.EMAIL, context.event, address, outcome, reason=reason, bcc=tuple(site.email_bcc))]


def _matrix(context: _Context, *, site: SiteRules) -> list[Planned]:
    recipients: dict[str, str] = {}
    if _wanted(context, Channel.MATRIX):
        room = str(context.options.get("mxroomid") or "")
        for room_id, role in [(room, Role.OWNER), *((bcc, Role.BCC) for bcc in site.matrix_bcc_rooms)]:
            if room_id:
                recipients.setdefault(room_id, role)
    if context.event == Event.FAILED:
        # Operators hear of every failure, whatever the user chose.
        for room_id in site.matrix_incident_rooms:
            recipients.setdefault(room_id, Role.INCIDENT)
    planned = []
    for room_id, role in recipients.items():
        outcome, reason = _judge(context, Channel.MATRIX, room_id)
        planned.append(Planned(Channel.MATRIX, context.event, room_id, outcome, role=role, reason=reason))
    return planned


def _wanted(context: _Context, channel: str) -> bool:
    return bool(context.options.get(_OPTION_NAMES[channel][context.event], False))


def _judge(context: _Context, channel: str, recipient: str) -> tuple[str, str]:
    """pending, or skipped/refused with the reason, for one recipient."""
    names = _OPTION_NAMES[channel]
    key = (channel, recipient)
    if context.event == Event.SUBMITTED:
        interval = float(context.options.get(names["interval"], 0) or 0)
        last = context.history.last_submitted_at.get(key)
        if last is not None and (context.now - last).total_seconds() < interval:
            return Outcome.SKIPPED, f"a submitted notice was sent less than {interval:g} s ago"
    if context.event == Event.DONE:
        if key in context.history.done_planned:
            return Outcome.REFUSED, "done was already notified for this job"
        if context.options.get(names["stout"]):
            threshold = float(context.options.get(names["threshold"], 0) or 0)
            if context.duration_s is None or context.duration_s <= threshold:
                return Outcome.SKIPPED, f"the job took less than {threshold:g} s"
    return Outcome.PENDING, ""


def _parse(name: str, value: object) -> object | None:
    """The option's value in its proper type, or None when absent or malformed."""
    if value is None:
        return None
    if name in _BOOLEAN_OPTIONS:
        return _parse_bool(value)
    if name in _NUMBER_OPTIONS:
        return _parse_number(value)
    return value if value != "" else None


def _parse_bool(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


def _parse_number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if number == number and number >= 0 else None
