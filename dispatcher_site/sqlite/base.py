"""SQLite with writers queued in the kernel and in Python, not in SQLite's busy wait.

This backend is the one place where the project reaches below Django's public
database API for *transactions*: it overrides four private methods of Django
5.2's SQLite backend (``_start_transaction_under_autocommit``, ``_commit``,
``_rollback``, ``_close``) and sends no SQL but one ``PRAGMA busy_timeout`` (below). Statements that leave the
ORM live in ``jobs.sql``; nothing else does either.

Why, measured: SQLite admits one writer; a connection that finds the write lock
taken sleeps in growing steps (1, 2, 5, 10 ms...) before it tries again. With
gunicorn's workers and threads and the django-q2 cluster all writing, a 0.3 ms
transaction turned into milliseconds of idle waiting. Here every transaction
first takes

- a lock shared by the threads of the process, then
- an exclusive ``flock`` on a file beside the database, shared by the processes
  (``_Flock``: taken at once when free, else with a deadline through a helper thread),

both of which hand over at once when released, so SQLite's own lock is always free
when ``BEGIN IMMEDIATE`` asks for it. Statements outside a transaction (autocommit)
still meet SQLite's busy wait; they are short and rare on the write path.

Bounded waits: a process outside the service (a ``sqlite3`` shell, a backup) can hold
SQLite's write lock for as long as it likes. A thread inside ``write_wait(s)`` (every web
request: ``dispatcher_site.outages``) waits at most ``s`` for the queue and ``s`` for
SQLite's busy wait, then gets "database is locked" (an OperationalError the web answers
as a 503); workers keep the ``timeout`` option (30 s). Before, a web thread waited on the
thread lock behind writers each waiting 30 s, and every web thread hung with it. The only
SQL of this module is the ``PRAGMA busy_timeout`` that sets that wait when it changes.
A new database file is created 0600 (it holds users' claims).

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

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Iterator

from django.db import OperationalError
from django.db.backends.sqlite3 import base


class WriteLockTimeout(OperationalError):
    """The write lock was not free within the caller's wait: the database is locked for now."""


class _Flock:
    """An exclusive ``flock`` on one open file, taken with a deadline.

    flock(2) cannot time out, and a thread blocked in it cannot be called back. So a
    writer that finds the lock taken hands the blocking call to a helper thread and
    waits on a condition with its deadline; if it gives up, the helper lets the lock
    go as soon as the kernel grants it, unless the next writer of this process asked
    for it meanwhile. Only the holder of the process's thread lock calls ``take``.
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._state = threading.Condition()
        self._held = False  # the kernel granted the lock to this descriptor for a waiting writer
        self._pending = False  # the helper is (or is about to be) blocked in flock
        self._wanted = False  # a writer waits for the helper's result
        self._helper: threading.Thread | None = None

    def take(self, deadline: float | None) -> bool:
        with self._state:
            if not self._pending:
                try:
                    fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return True  # free: the common case, no hand-over
                except BlockingIOError:
                    pass
                self._pending = True
                self._start_helper()
                self._state.notify_all()
            self._wanted = True
            try:
                while not self._held:
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        return False
                    self._state.wait(remaining)
                self._held = False
                return True
            finally:
                self._wanted = False

    def give(self) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)

    def _start_helper(self) -> None:
        if self._helper is None or not self._helper.is_alive():
            self._helper = threading.Thread(target=self._wait_in_kernel, name="sqlite-write-queue", daemon=True)
            self._helper.start()

    def _wait_in_kernel(self) -> None:
        while True:
            with self._state:
                while not self._pending:
                    self._state.wait()
            fcntl.flock(self.fd, fcntl.LOCK_EX)
            with self._state:
                self._pending = False
                if self._wanted:
                    self._held = True
                    self._state.notify_all()
                else:
                    fcntl.flock(self.fd, fcntl.LOCK_UN)  # its writer gave up: pass it on


class _WriteLock:
    """One writer at a time among the threads and processes that use a database file."""

    def __init__(self) -> None:
        self._threads = threading.Lock()
        # Locks by database path, with the pid that opened their files: a descriptor
        # inherited through fork shares its lock with the parent.
        self._files: dict[str, tuple[int, _Flock]] = {}

    def acquire(self, path: str | None, *, timeout: float | None = None) -> None:
        """Wait for the lock, at most ``timeout`` seconds (None: as long as it takes): WriteLockTimeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self._threads.acquire(timeout=-1 if timeout is None else max(timeout, 0)):
            raise WriteLockTimeout(f"database is locked: no write lock within {timeout:g} s")
        if path is None:
            return
        try:
            if not self._flock(path).take(deadline):
                raise WriteLockTimeout(f"database is locked: no write lock within {timeout:g} s")
        except BaseException:
            self._threads.release()
            raise

    def release(self, path: str | None) -> None:
        try:
            if path is not None:
                self._flock(path).give()
        finally:
            self._threads.release()

    def _flock(self, path: str) -> _Flock:
        pid, lock = self._files.get(path, (None, None))
        if pid != os.getpid():
            if lock is not None:
                os.close(lock.fd)
            # flock needs no write access: any process that may read the database may queue.
            fd = os.open(lock_file_path(path), os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
            lock = _Flock(fd)
            self._files[path] = (os.getpid(), lock)
        return lock


def lock_file_path(database: str) -> str:
    """The file whose ``flock`` every writer of ``database`` queues on."""
    return f"{database}-writelock"


_write_lock = _WriteLock()
_waits = threading.local()


@contextlib.contextmanager
def write_wait(seconds: float | None) -> Iterator[None]:
    """Within the block, this thread's transactions wait at most ``seconds`` for the write lock
    (the queue, then SQLite's own busy wait), then fail with WriteLockTimeout / "database is
    locked". None: the connection's ``timeout`` option. Web requests set a short wait
    (``dispatcher_site.outages``), so a lock held from outside becomes a 503, not a hang."""
    before = getattr(_waits, "seconds", None)
    _waits.seconds = seconds
    try:
        yield
    finally:
        _waits.seconds = before


class DatabaseWrapper(base.DatabaseWrapper):
    _holds_write_lock = False
    _locked_path: str | None = None
    _busy_timeout_s: float | None = None
    _configured_timeout_s: float = 5.0

    def get_new_connection(self, conn_params):
        name = str(conn_params.get("database", ""))
        if name and not self.is_in_memory_db() and not name.startswith("file:") and not os.path.exists(name):
            # The database holds users' claims: created readable by its owner only. SQLite
            # gives its -wal and -shm files the database file's mode.
            os.close(os.open(name, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600))
        self._configured_timeout_s = float(conn_params.get("timeout", 5.0))
        if self._wait_s() is not None:
            # Autocommit writes before the first transaction wait no longer than the thread may.
            conn_params = {**conn_params, "timeout": self._wait_s()}
        connection = super().get_new_connection(conn_params)
        self._busy_timeout_s = float(conn_params.get("timeout", 5.0))
        return connection

    def _start_transaction_under_autocommit(self):
        path = self._lock_path()
        wait = self._wait_s()
        _write_lock.acquire(path, timeout=wait)
        self._holds_write_lock, self._locked_path = True, path
        try:
            self._busy_timeout_set(self._configured_timeout_s if wait is None else wait)
            super()._start_transaction_under_autocommit()  # BEGIN IMMEDIATE (OPTIONS["transaction_mode"])
        except BaseException:
            self._release_write_lock()
            raise

    def _wait_s(self) -> float | None:
        """This thread's wait for the write lock (``write_wait``), else None: as the ``timeout`` option says."""
        return getattr(_waits, "seconds", None)

    def _busy_timeout_set(self, seconds: float) -> None:
        """SQLite's own busy wait (for a lock taken outside the queue), sent only when it changes.

        A thread keeps one wait (web threads the short one), so this PRAGMA goes about once
        per connection; a lock held outside costs a web request at most twice its wait.
        """
        if self._busy_timeout_s != seconds:
            self.connection.execute(f"PRAGMA busy_timeout = {int(seconds * 1000)}")
            self._busy_timeout_s = seconds

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
