"""The admin's job list at a million jobs: what it counts, filters and searches, and how.

Measured on a SQLite registry of 50,000 jobs (bench/run.py's registry, 2026-12-06), one
request of the stock changelist cost 260 ms of CPU and its queries 0.6 s, growing with
the registry: ``date_hierarchy`` asked for every distinct day of ``created_at`` (475 ms),
the instrument filter for every distinct instrument (34 ms), the paginator and the
"x total" line counted every row twice, and a search by id prefix ran a LIKE that
SQLite cannot serve from an index, over every id and every owner. Here each of these
reads a bounded number of rows.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.utils.functional import cached_property

from instruments.models import Instrument
from jobs.access import job_id_prefix_q, prefix_q

# Rows the list counts at most; past that it shows this many (and as many pages).
COUNT_CAP = 10_000


class CappedCountPaginator(Paginator):
    """Counts at most COUNT_CAP + 1 rows, in index order: a bounded read at any registry size."""

    @cached_property
    def count(self) -> int:
        return min(self.object_list.order_by()[: COUNT_CAP + 1].count(), COUNT_CAP)


class InstrumentFilter(admin.SimpleListFilter):
    """The configured instruments (a small table), not every distinct value among the jobs."""

    title = "instrument"
    parameter_name = "instrument"

    def lookups(self, request, model_admin) -> list[tuple[str, str]]:
        names = Instrument.objects.order_by("name").values_list("name", flat=True)
        return [(name, name) for name in names]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        return queryset.filter(instrument=self.value()) if self.value() else queryset


_NAME_CHARACTERS = "0123456789abcdefghijklmnopqrstuvwxyz"


def job_search(queryset: QuerySet, term: str) -> QuerySet:
    """Every word is the beginning of a job id or of an owner's address, or a whole address:
    each a range of an index (the unique job id, the owner's)."""
    for word in term.split():
        owner = prefix_q("owner", word, alphabet=_NAME_CHARACTERS) if word.isalnum() else Q(owner=word)
        queryset = queryset.filter(job_id_prefix_q(word.lower()) | owner)
    return queryset
