"""The SQLite backend queues writers of every process on one lock file, in order and at once,
and every transaction holds that queue and SQLite's write lock from its BEGIN to its end."""

import fcntl
import multiprocessing
import os
import sqlite3
import threading
import time

import pytest
from django.db import OperationalError, connection, connections, transaction

from dispatcher_site.sqlite.base import DatabaseWrapper, _WriteLock, lock_file_path

HOLD_S = 0.4


def _hold_then_record(lock_path: str, log_path: str, ready, name: str) -> None:
    lock = _WriteLock()
    lock.acquire(lock_path)
    ready.set()
    with open(log_path, "a") as log:
        log.write(f"{name} in {time.monotonic()}\n")
    time.sleep(HOLD_S)
    with open(log_path, "a") as log:
        log.write(f"{name} out {time.monotonic()}\n")
    lock.release(lock_path)


def _record(lock_path: str, log_path: str, name: str) -> None:
    lock = _WriteLock()
    lock.acquire(lock_path)
    with open(log_path, "a") as log:
        log.write(f"{name} in {time.monotonic()}\n")
    lock.release(lock_path)


def _events(log_path) -> list[tuple[str, str, float]]:
    lines = [line.split() for line in open(log_path).read().splitlines()]
    return [(name, what, float(when)) for name, what, when in lines]


@pytest.fixture
def paths(tmp_path):
    return str(tmp_path / "db.sqlite3"), str(tmp_path / "log")


def test_a_second_process_waits_for_the_writer_and_enters_as_soon_as_it_leaves(paths):
    lock_path, log_path = paths
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    holder = context.Process(target=_hold_then_record, args=(lock_path, log_path, ready, "holder"))
    holder.start()
    assert ready.wait(30)
    waiter = context.Process(target=_record, args=(lock_path, log_path, "waiter"))
    waiter.start()
    holder.join(30)
    waiter.join(30)

    events = _events(log_path)
    assert [(name, what) for name, what, _ in events] == [("holder", "in"), ("holder", "out"), ("waiter", "in")]
    handed_over_after_s = events[2][2] - events[1][2]
    # The kernel wakes the waiter: no SQLite-style sleep in growing steps.
    assert handed_over_after_s < 0.2


def test_a_forked_child_opens_its_own_lock_file(paths):
    lock_path, _ = paths
    lock = _WriteLock()
    lock.acquire(lock_path)  # the parent opened the lock file, and holds the lock
    try:
        child = os.fork()
        if child == 0:
            # The child starts from the parent's descriptors (as a gunicorn worker would from
            # its master's). A descriptor shared through fork shares its lock: it would pass at once.
            inherited = _WriteLock()
            inherited._files = dict(lock._files)
            started = time.monotonic()
            inherited.acquire(lock_path)
            os._exit(0 if time.monotonic() - started >= HOLD_S * 0.9 else 1)
        time.sleep(HOLD_S)
    finally:
        lock.release(lock_path)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_threads_of_one_process_take_turns(paths):
    lock_path, _ = paths
    lock = _WriteLock()
    inside = []
    overlaps = []

    def write(n: int) -> None:
        for _ in range(50):
            lock.acquire(lock_path)
            inside.append(n)
            if len(inside) > 1:
                overlaps.append(tuple(inside))
            time.sleep(0.0005)
            inside.remove(n)
            lock.release(lock_path)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert overlaps == []


def test_in_memory_databases_need_no_lock_file():
    lock = _WriteLock()
    lock.acquire(None)
    lock.release(None)
    assert lock._files == {}


def _queue_taken(lock_file: str) -> bool:
    """Whether some writer holds the queue's flock (a new open file conflicts even with this process)."""
    fd = os.open(lock_file, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def _sqlite_write_lock_taken(database: str) -> bool:
    other = sqlite3.connect(database, timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        assert "locked" in str(error)
        return True
    else:
        other.rollback()
        return False
    finally:
        other.close()


# Models are imported inside the tests: the spawned processes above import this module bare.
@pytest.fixture
def queued_sqlite(transactional_db):
    """The default database's file, when it is SQLite behind the queueing backend."""
    if not isinstance(connections["default"], DatabaseWrapper):
        pytest.skip("the queueing SQLite backend only")
    yield str(connection.settings_dict["NAME"])
    connection.close()  # frees the queue if a failed test left it taken, so the flush that follows can run


def test_a_transaction_holds_the_queue_and_sqlites_write_lock_from_its_begin_to_its_end(queued_sqlite):
    from jobs.models import Job

    lock_file = lock_file_path(queued_sqlite)
    with transaction.atomic():
        # Before any statement of ours: BEGIN IMMEDIATE already holds SQLite's write lock.
        assert _queue_taken(lock_file)
        assert _sqlite_write_lock_taken(queued_sqlite)
        Job.objects.create(job_id="a" * 64, instrument="empty", product_type="echo")
    assert not _queue_taken(lock_file)
    assert not _sqlite_write_lock_taken(queued_sqlite)

    with pytest.raises(RuntimeError), transaction.atomic():
        assert _queue_taken(lock_file)
        raise RuntimeError("rolled back")
    assert not _queue_taken(lock_file)


def test_a_begin_that_fails_leaves_the_queue(queued_sqlite):
    from jobs.models import Job

    other = sqlite3.connect(queued_sqlite, timeout=0)
    other.execute("BEGIN IMMEDIATE")  # SQLite's lock taken behind the queue's back
    try:
        connection.ensure_connection()
        connection.connection.execute("PRAGMA busy_timeout = 0")
        with pytest.raises(OperationalError, match="locked"), transaction.atomic():
            pass
        # Checked at once: closing the connection below would free a queue left taken.
        queue_left = not _queue_taken(lock_file_path(queued_sqlite))
    finally:
        other.rollback()
        other.close()
        connection.close()  # the next use reconnects with the configured timeout
    assert queue_left
    with transaction.atomic():
        Job.objects.create(job_id="a" * 64, instrument="empty", product_type="echo")
    assert Job.objects.count() == 1


def test_a_second_thread_writes_once_the_first_has_committed(queued_sqlite):
    from jobs.models import Job

    order = []
    started = threading.Event()

    def write() -> None:
        started.set()
        try:
            with transaction.atomic():
                order.append("second in")
                Job.objects.create(job_id="b" * 64, instrument="empty", product_type="echo")
        finally:
            connections.close_all()

    with transaction.atomic():
        Job.objects.create(job_id="a" * 64, instrument="empty", product_type="echo")
        second = threading.Thread(target=write, daemon=True)
        second.start()
        assert started.wait(10)
        time.sleep(HOLD_S)
        order.append("first out")
    second.join(30)
    assert order == ["first out", "second in"]
    assert Job.objects.count() == 2
