"""Prepared statements store and read exactly what the ORM would, whichever cursor carries them.

Unwatched (no DEBUG, no query capture, no execute_wrapper), the INSERTs go to the
driver's own cursor; watched, through Django's. The ``through`` fixture runs a
test both ways and checks, from what passed Django's cursor, which way it went.
"""

import threading
from contextlib import contextmanager
from unittest import mock

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.db.backends.utils import CursorWrapper
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jobs.models import Job, JobEvent, JobProducts
from jobs.sql import job_by_job_id, queries_watched, row_family_insert, row_get, row_insert

pytestmark = pytest.mark.django_db


@contextmanager
def djangos_cursor():
    """The statements that pass through Django's cursor wrapper (the driver's own cursor bypasses it)."""
    seen = []
    execute = CursorWrapper.execute

    def recording(self, sql, params=None):
        seen.append(sql)
        return execute(self, sql, params)

    with mock.patch.object(CursorWrapper, "execute", recording):
        yield seen


@pytest.fixture(params=["driver", "django"])
def through(request):
    """A block whose INSERTs must go to the driver's cursor, or (queries watched) through Django's."""

    @contextmanager
    def block():
        with djangos_cursor() as seen:
            if request.param == "django":
                with CaptureQueriesContext(connection):
                    yield
            else:
                assert not queries_watched(connection), "something watches queries: the driver path cannot run"
                yield
        inserts = [sql for sql in seen if sql.startswith("INSERT")]
        if request.param == "driver":
            assert inserts == []
        else:
            assert inserts

    return block


def _job(job_id: str = "a" * 64, **fields) -> Job:
    return Job(
        job_id=job_id, instrument="empty", product_type="echo", params={"ra": 1.5, "names": ["x", "é"]}, **fields
    )


def _fields(job: Job) -> dict:
    ignored = {"id", "created_at"}
    return {f.attname: getattr(job, f.attname) for f in Job._meta.concrete_fields if f.attname not in ignored}


def test_a_row_reads_back_as_the_orm_would_have_stored_it(through):
    started = timezone.now()
    with through():
        inserted = row_insert(_job(owner="alice@example.org", claims={"roles": ["general"]}, started_at=started))
    by_orm = Job.objects.create(**{**_fields(inserted), "job_id": "b" * 64})

    read = Job.objects.get(pk=inserted.pk)
    assert inserted.pk is not None and not inserted._state.adding
    assert _fields(read) == {**_fields(by_orm), "job_id": "a" * 64}
    assert read.params == {"ra": 1.5, "names": ["x", "é"]}
    assert read.started_at == started
    assert read.created_at == inserted.created_at
    assert read.backend_calls == 0 and read.attempt == 1 and read.backend_ref == {} and read.status == "submitted"


def test_the_prepared_select_reads_what_the_orm_reads():
    job = Job.objects.create(job_id="a" * 64, instrument="empty", product_type="echo", params={"é": [1, None]})
    found = job_by_job_id(job.job_id)
    assert _fields(found) == _fields(Job.objects.get(pk=job.pk))
    assert (found.pk, found.created_at, found._state.adding, found._state.db) == (
        job.pk,
        job.created_at,
        False,
        "default",
    )
    assert job_by_job_id("c" * 64) is None
    assert row_get(JobProducts, "job_id", job.pk) is None


def test_a_foreign_key_and_a_null_are_stored(through):
    with through():
        job = row_insert(_job())
        event = row_insert(JobEvent(job=job, kind="status", status="submitted", message="m", data={"k": 1}))
    assert list(job.events.values_list("pk", "message", "data", "dedup_key")) == [(event.pk, "m", {"k": 1}, None)]


def test_a_duplicate_is_djangos_integrity_error(through):
    row_insert(_job())
    with through(), pytest.raises(IntegrityError), transaction.atomic():
        row_insert(_job())


def test_replace_overwrites_the_row_with_the_same_primary_key(through):
    job = row_insert(_job())
    with through():
        row_insert(JobProducts(job=job, lists={"text_product_list": [1]}, comment="first"), replace=True)
        row_insert(JobProducts(job=job, lists={"text_product_list": [2]}, comment="second"), replace=True)
    assert list(JobProducts.objects.values_list("job_id", "lists", "comment")) == [
        (job.pk, {"text_product_list": [2]}, "second")
    ]
    assert row_get(JobProducts, "job_id", job.pk).lists == {"text_product_list": [2]}


def test_a_family_goes_in_together_with_its_links_set(through):
    with through():
        job = row_family_insert(
            _job(), [JobEvent(kind="status", status="submitted", message="one"), JobProducts(lists={"a": 1})]
        )
    event = job.events.get()
    assert (event.message, event.job_id) == ("one", job.pk)
    assert JobProducts.objects.get(job=job).lists == {"a": 1}


def test_a_family_that_fails_halfway_leaves_nothing_behind(through):
    twins = [JobEvent(kind="progress", status="submitted", message="same", dedup_key="k") for _ in range(2)]
    with through(), pytest.raises(IntegrityError):
        row_family_insert(_job(), twins)
    assert not Job.objects.exists()
    assert not JobEvent.objects.exists()


def test_a_broken_transaction_refuses_prepared_statements_as_the_orm_does(through):
    with transaction.atomic():
        transaction.set_rollback(True)
        connection.needs_rollback = True
        with through(), pytest.raises(TransactionManagementError):
            row_insert(_job())
        with pytest.raises(TransactionManagementError):
            Job.objects.create(job_id="d" * 64, instrument="empty", product_type="echo")


@pytest.mark.django_db(transaction=True)
def test_an_insert_outside_a_transaction_is_committed_at_once(through):
    # The driver's cursor must leave no transaction open behind it: on SQLite that
    # would keep the one write lock, and no other connection would see the row.
    with through():
        job = row_insert(_job())
    seen = []

    def look() -> None:
        try:
            seen.append(Job.objects.filter(job_id=job.job_id).exists())
        finally:
            connections.close_all()

    reader = threading.Thread(target=look)
    reader.start()
    reader.join(30)
    assert seen == [True]
    assert not connection.in_atomic_block


def test_statements_show_up_wherever_queries_are_watched():
    # Watching queries (DEBUG, the query-counting test tools) sends them through
    # Django's cursor, which records them; the results are the same.
    with CaptureQueriesContext(connection) as watched:
        job = row_family_insert(_job(), [JobEvent(kind="status", status="submitted", message="seen")])
        found = job_by_job_id(job.job_id)
    statements = [query["sql"] for query in watched.captured_queries]
    assert any(sql.startswith('INSERT INTO "jobs_job"') for sql in statements)
    assert any(sql.startswith('INSERT INTO "jobs_jobevent"') for sql in statements)
    assert any(sql.startswith("SELECT") and job.job_id in sql for sql in statements)
    assert (found.pk, found.params, found.events.get().message) == (job.pk, job.params, "seen")


def test_execute_wrappers_see_the_prepared_statements():
    seen = []

    def record(execute, sql, params, many, context):
        seen.append(sql.split(" (")[0])
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        job = row_insert(_job())
        assert job_by_job_id(job.job_id).pk == job.pk
    assert seen[0] == 'INSERT INTO "jobs_job"'
    assert seen[1].startswith("SELECT")
