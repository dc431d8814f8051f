"""SQLite with writers queued in the kernel and in Python, not in SQLite's busy wait.

This backend is the one place where the project reaches below Django's public
database API for *transactions*: it overrides four private methods of Django
5.2's SQLite backend (``_start_transaction_under_autocommit``, ``_commit``,
``_rollback``, ``_close``) and sends no SQL of its own. Statements that leave the
ORM live in ``jobs.sql``; nothing else does either.

Why, measured: SQLite admits one writer; a connection that finds the write lock
taken sleeps in growing steps (1, 2, 5, 10 ms...) before it tries again. With
gunicorn's workers and threads and the django-q2 cluster all writing, a 0.3 ms
transaction turned into milliseconds of idle waiting. Here every transaction
first takes

- a lock shared by the threads of the process, then
- an exclusive ``flock`` on a file beside the database, shared by the processes,

both of which hand over at once when released, so SQLite's own lock is always free
when ``BEGIN IMMEDIATE`` asks for it. Statements outside a transaction (autocommit)
still meet SQLite's busy wait; they are short and rare on the write path.

Measured 2026-11-30 with ``bench/run.py --variants shipped,plain,plain-queued,fastpath-stock
--rounds 7 --seconds 6`` (one service per variant, gunicorn 2 workers x 2 threads,
wrk 16 connections, runs interleaved, on this 2-core VM; medians, every request a
new ``empty/dummy`` job): with ``jobs.sql``'s statements, 770 jobs/s queued here
against 615/s with Django's own backend (``transaction_mode="IMMEDIATE"``,
``timeout=30``); with plain ORM statements, 520/s against 381/s. An earlier run
of 7 rounds gave 786 against 642 and 539 against 408. Reads take no lock and did
not change. The BEGIN goes through Django's cursor: sending it to the driver's own
measured 782 against 786 jobs/s (noise), and was removed.
"""

from __future__ import annotations

import fcntl
import os
import threading

from django.db.backends.sqlite3 import base


class _WriteLock:
    """One writer at a time among the threads and processes that use a database file."""

    def __init__(self) -> None:
        self._threads = threading.Lock()
        # Lock file descriptors by database path, with the pid that opened them: a
        # descriptor inherited through fork shares its lock with the parent.
        self._files: dict[str, tuple[int, int]] = {}

    def acquire(self, path: str | None) -> None:
        self._threads.acquire()
        if path is None:
            return
        try:
            fcntl.flock(self._descriptor(path), fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise

    def release(self, path: str | None) -> None:
        try:
            if path is not None:
                fcntl.flock(self._descriptor(path), fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def _descriptor(self, path: str) -> int:
        pid, fd = self._files.get(path, (None, -1))
        if pid != os.getpid():
            if fd >= 0:
                os.close(fd)
            # flock needs no write access: any process that may read the database may queue.
            fd = os.open(lock_file_path(path), os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
            self._files[path] = (os.getpid(), fd)
        return fd


def lock_file_path(database: str) -> str:
    """The file whose ``flock`` every writer of ``database`` queues on."""
    return f"{database}-writelock"


_write_lock = _WriteLock()


class DatabaseWrapper(base.DatabaseWrapper):
    _holds_write_lock = False
    _locked_path: str | None = None

    def _start_transaction_under_autocommit(self):
        path = self._lock_path()
        _write_lock.acquire(path)
        self._holds_write_lock, self._locked_path = True, path
        try:
            super()._start_transaction_under_autocommit()  # BEGIN IMMEDIATE (OPTIONS["transaction_mode"])
        except BaseException:
            self._release_write_lock()
            raise

    def _commit(self):
        try:
            super()._commit()
        finally:
            self._release_write_lock()

    def _rollback(self):
        try:
            super()._rollback()
        finally:
            self._release_write_lock()

    def _close(self):
        try:
            super()._close()
        finally:
            self._release_write_lock()

    def _release_write_lock(self) -> None:
        if self._holds_write_lock:
            self._holds_write_lock = False
            _write_lock.release(self._locked_path)

    def _lock_path(self) -> str | None:
        """The database file, or None for an in-memory database (one process: the thread lock is enough)."""
        name = str(self.settings_dict["NAME"])
        if self.is_in_memory_db() or not name:
            return None
        return name
