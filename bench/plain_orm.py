"""``jobs.sql``'s functions written with the plain ORM: the yardstick it is measured against.

bench/settings.py puts this module in place of ``jobs.sql`` for the
variants ``plain`` and ``plain-queued``; nothing else imports it. Same names,
same arguments, same results (tests/jobs/test_sql.py checks the fast path
against the ORM). Models are imported on use: this module is loaded by the
settings, before the app registry.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import Model

M = TypeVar("M", bound=Model)


def row_insert(row: M, *, replace: bool = False) -> M:
    if not replace:
        row.save(force_insert=True)
        return row
    model = type(row)
    fields = [field.name for field in model._meta.concrete_fields if not field.primary_key]
    model._default_manager.bulk_create(
        [row], update_conflicts=True, unique_fields=[model._meta.pk.name], update_fields=fields
    )
    return row


def row_family_insert(parent: M, children: Sequence[Model]) -> M:
    by_model: dict[type[Model], list[Model]] = {}
    for child in children:
        by_model.setdefault(type(child), []).append(child)
    with transaction.atomic():
        parent.save(force_insert=True)
        for model, rows in by_model.items():
            (link,) = [f for f in model._meta.concrete_fields if f.is_relation and f.related_model is type(parent)]
            for row in rows:
                setattr(row, link.name, parent)
            model._default_manager.bulk_create(rows)
    return parent


def row_get(model: type[M], column: str, value: Any) -> M | None:
    return model._default_manager.filter(**{column: value}).first()


def job_by_job_id(job_id: str) -> Any:
    from jobs.models import Job

    return Job.objects.filter(job_id=job_id).first()
