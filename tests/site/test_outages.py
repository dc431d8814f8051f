"""Database outages answer a JSON 503 with Retry-After; SQLite's write lock is waited for a bounded
time; /healthz says 'locked' while a process outside holds it; data files are private."""

from __future__ import annotations

import multiprocessing
import sqlite3
import stat
import threading
import time

import pytest
from django.db import OperationalError, connection, connections, transaction
from django.db.backends.utils import CursorWrapper
from django.test import RequestFactory

from dispatcher_site.errors import InvalidRequest, ServiceUnavailable
from dispatcher_site.sqlite.base import DatabaseWrapper, WriteLockTimeout, _WriteLock, write_wait


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def database_down(monkeypatch):
    """Every query fails as it does when the server is gone or the file is locked."""

    def refuse(self, *args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(CursorWrapper, "execute", refuse)
    monkeypatch.setattr(CursorWrapper, "executemany", refuse)


@pytest.mark.django_db
def test_a_database_error_in_a_view_is_a_json_503_with_a_retry_hint(client, alice, database_down, caplog):
    response = client.get("/api/v1/jobs/", HTTP_AUTHORIZATION=f"Bearer {alice}")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert int(response["Retry-After"]) >= 1
    body = response.json()
    assert body["error_code"] == "service_unavailable"
    assert body["exit_status"]["message"] == body["error"]
    # Logged once, as a warning, without a stack.
    outages = [r for r in caplog.records if r.name == "dispatcher_site.outages"]
    assert [(r.levelname, r.exc_info) for r in outages] == [("WARNING", None)]
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL") or r.exc_info]


@pytest.mark.django_db
def test_a_protocol_submission_during_an_outage_is_a_json_503(client, alice, database_down):
    query = "instrument=empty&product_type=dummy&query_type=Dummy&query_status=new"
    response = client.get(f"/run_analysis?{query}&token={alice}")
    assert response.status_code == 503
    assert response.json()["error_code"] == "service_unavailable"
    assert "Retry-After" in response


def test_handler500_answers_a_database_error_outside_a_view_as_503_and_others_as_500():
    from dispatcher_site.outages import server_error

    request = RequestFactory().get("/somewhere")
    try:
        raise OperationalError("connection refused")
    except OperationalError:
        outage = server_error(request)
    assert outage.status_code == 503 and outage["Retry-After"]
    try:
        raise ValueError("a bug")
    except ValueError:
        bug = server_error(request)
    assert bug.status_code == 500


@pytest.mark.django_db
def test_every_renderer_gives_retry_after_for_service_unavailable_only():
    from dispatcher_site.rest import rest_exception_handler
    from jobs.interfaces.oda.errors import oda_error_response
    from jobs.interfaces.page.views import page_error_response
    from jobs.interfaces.uws.errors import uws_error_response

    request = RequestFactory().get("/x")
    renderers = {
        "oda": lambda error: oda_error_response(request, error),
        "rest": lambda error: rest_exception_handler(error, {"request": request}),
        "uws": lambda error: uws_error_response(request, error),
        "page": lambda error: page_error_response(request, error),
    }
    for name, render in renderers.items():
        unavailable = render(ServiceUnavailable("queue down", retry_after_s=7))
        assert unavailable.status_code == 503, name
        assert unavailable["Retry-After"] == "7", name
        assert "Retry-After" not in render(InvalidRequest("bad")), name


# SQLite: a process outside the service holds the write lock.


@pytest.fixture
def sqlite_file(transactional_db):
    if not isinstance(connections["default"], DatabaseWrapper):
        pytest.skip("the queueing SQLite backend only")
    yield str(connection.settings_dict["NAME"])
    connection.close()


@pytest.fixture
def outsider(sqlite_file):
    other = sqlite3.connect(sqlite_file, timeout=0, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    yield other
    other.execute("ROLLBACK")
    other.close()


def test_a_web_write_waits_its_bound_then_fails_while_an_outsider_holds_the_lock(outsider):
    started = time.monotonic()
    with pytest.raises(OperationalError, match="locked"), write_wait(0.5), transaction.atomic():
        pass
    assert 0.4 < time.monotonic() - started < 2.0


def test_threads_queued_behind_a_blocked_writer_give_up_at_their_own_deadline(outsider):
    outcomes = []

    def write() -> None:
        started = time.monotonic()
        try:
            with write_wait(0.5), transaction.atomic():
                pass
        except OperationalError:
            outcomes.append(time.monotonic() - started)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    # Each waited about its own bound (queue, then SQLite's busy wait), not the others' in turn.
    assert len(outcomes) == 4
    assert max(outcomes) < 1.6, outcomes


@pytest.mark.django_db(transaction=True)
def test_healthz_says_locked_within_two_seconds_while_an_outsider_holds_the_lock(client, outsider):
    started = time.monotonic()
    response = client.get("/healthz")
    assert time.monotonic() - started < 2
    assert response.status_code == 503
    assert response.json()["database"]["state"] == "locked"


def _hold_queue(path: str, held, release) -> None:
    lock = _WriteLock()
    lock.acquire(path)
    held.set()
    release.wait(30)
    lock.release(path)


def test_a_writer_that_gives_up_on_the_queue_leaves_it_free_for_the_next(tmp_path):
    path = str(tmp_path / "db.sqlite3")
    context = multiprocessing.get_context("spawn")
    held, release = context.Event(), context.Event()
    holder = context.Process(target=_hold_queue, args=(path, held, release))
    holder.start()
    assert held.wait(30)
    lock = _WriteLock()
    started = time.monotonic()
    with pytest.raises(WriteLockTimeout):
        lock.acquire(path, timeout=0.3)
    assert time.monotonic() - started < 1
    release.set()
    holder.join(30)
    time.sleep(0.2)  # the helper thread got the lock when the holder left, and let it go
    other = _WriteLock()
    other.acquire(path, timeout=1)  # another process's view: free
    other.release(path)
    lock.acquire(path, timeout=1)
    lock.release(path)


# Data files are private.


def test_a_new_sqlite_database_and_its_wal_files_are_0600(tmp_path, django_db_blocker):
    if not isinstance(connections["default"], DatabaseWrapper):
        pytest.skip("the SQLite backend only")
    database = tmp_path / "private.sqlite3"
    wrapper = DatabaseWrapper({**connections["default"].settings_dict, "NAME": str(database)}, alias="private")
    try:
        with django_db_blocker.unblock(), wrapper.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("CREATE TABLE t (n int)")
            cursor.execute("INSERT INTO t VALUES (1)")
        files = [database, tmp_path / "private.sqlite3-wal", tmp_path / "private.sqlite3-shm"]
        assert {path.name: _mode(path) for path in files} == {path.name: 0o600 for path in files}
    finally:
        wrapper.close()


def test_product_folders_are_0700_and_files_0600(tmp_path, settings):
    from instruments.base import Products
    from jobs.products import products_dir, products_keep_files

    settings.PRODUCTS_DIR = tmp_path / "products"
    job_id = "ab" + "0" * 62
    products_keep_files(job_id=job_id, products=Products(files={"lc.fits": b"data"}))
    folder = products_dir(job_id)
    assert [_mode(path) for path in (folder.parent.parent, folder.parent, folder)] == [0o700] * 3
    assert _mode(folder / "lc.fits") == 0o600


def test_the_data_directory_is_created_0700(tmp_path):
    import os
    import subprocess
    import sys

    from tests.live import ROOT

    data_dir = tmp_path / "fresh" / "var"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DISPATCHER_")}
    environment.update(DJANGO_SETTINGS_MODULE="dispatcher_site.settings", DISPATCHER_DATA_DIR=str(data_dir))
    code = "import django; django.setup()"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment, check=True, timeout=120)
    assert _mode(data_dir) == 0o700
