"""SQLite with one writer per process at a time, queued in Python.

SQLite admits one writer; a connection that finds the write lock taken sleeps in
growing steps (1, 2, 5, 10 ms...) before it tries again. Between the threads of
one gunicorn worker that turned a 0.3 ms transaction into milliseconds of idle
waiting. Here the threads of a process queue on a lock that hands over at once,
and only processes still meet SQLite's own busy wait.
"""

from __future__ import annotations

import threading

from django.db.backends.sqlite3 import base

_write_lock = threading.Lock()


class DatabaseWrapper(base.DatabaseWrapper):
    _holds_write_lock = False

    def _start_transaction_under_autocommit(self):
        _write_lock.acquire()
        self._holds_write_lock = True
        try:
            super()._start_transaction_under_autocommit()
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
            _write_lock.release()
