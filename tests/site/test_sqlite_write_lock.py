"""The SQLite backend queues writers of every process on one lock file, in order and at once."""

import multiprocessing
import os
import threading
import time

import pytest

from dispatcher_site.sqlite.base import _WriteLock

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


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("watched", [False, True])
def test_a_transaction_takes_sqlites_write_lock_at_once_whether_or_not_queries_are_watched(watched):
    import sqlite3

    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "sqlite":
        pytest.skip("the SQLite backend's own BEGIN")
    with CaptureQueriesContext(connection) as captured:
        connection.force_debug_cursor = watched
        with transaction.atomic():
            # Before any statement of ours: BEGIN IMMEDIATE already holds SQLite's write lock.
            other = sqlite3.connect(connection.settings_dict["NAME"], timeout=0)
            try:
                with pytest.raises(sqlite3.OperationalError, match="locked"):
                    other.execute("BEGIN IMMEDIATE")
            finally:
                other.close()
    begins = [query["sql"] for query in captured.captured_queries if query["sql"].startswith("BEGIN")]
    assert begins == (["BEGIN IMMEDIATE"] if watched else [])
