"""Small values the Matrix bot keeps across restarts (its sync position)."""

from __future__ import annotations

from notifications.models import BotState


def bot_state_get(*, key: str) -> str:
    return BotState.objects.filter(key=key).values_list("value", flat=True).first() or ""


def bot_state_set(*, key: str, value: str) -> None:
    BotState.objects.update_or_create(key=key, defaults={"value": value})
