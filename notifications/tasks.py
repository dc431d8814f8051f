"""django-q2 tasks: thin, idempotent, given ids only."""

from __future__ import annotations

from notifications.deliveries import delivery_send, notifications_plan


def plan_event(event_id: int) -> list[int]:
    return notifications_plan(event_id=event_id)


def send_delivery(delivery_id: int) -> str:
    return delivery_send(delivery_id=delivery_id)
