"""Faults injected into a live service (`manage.py serve`): the database locked or down, slow clients.

Each test starts its own service on a database of its own, so that holding a lock or stopping
a server touches nothing else: a SQLite file (a) and a private PostgreSQL (b). What a client
must see: a JSON 503 with Retry-After (oda-api retries it), never Django's HTML 500 and never
a hang; /healthz 503 within 2 s; everything working again once the fault is gone.
"""

from __future__ import annotations

import itertools
import socket
import sqlite3
import threading
import time
import uuid

import pytest
import requests

from tests.conftest import free_port
from tests.faults import PrivatePostgres, database_migrated, private_postgres_fixture  # noqa: F401
from tests.live import LiveService

pytestmark = pytest.mark.e2e

HOLD_S = 10
_powers = itertools.count(1.0, 0.0001)


@pytest.fixture
def token() -> str:
    from dispatcher_site.tokens import token_issue

    return token_issue(email="alice@example.org", roles=["general"])


def _submit(service: LiveService, token: str, *, timeout: float = 30) -> requests.Response:
    """A new job each time (another p): joining a done job only reads, and reads work during a lock."""
    params = {
        "instrument": "empty",
        "product_type": "numerical",
        "query_type": "Real",
        "p": f"{next(_powers):.4f}",
        "query_status": "new",
        "session_id": uuid.uuid4().hex[:16],
        "token": token,
    }
    return requests.get(f"{service.url}/run_analysis", params=params, timeout=timeout)


def _timed(call):
    started = time.monotonic()
    answer = call()
    return answer, time.monotonic() - started


def _assert_json_503(answer: requests.Response) -> None:
    assert answer.status_code == 503, answer.text[:300]
    assert answer.headers["Content-Type"].startswith("application/json")
    assert int(answer.headers["Retry-After"]) > 0
    assert answer.json()["error_code"] == "service_unavailable"


@pytest.fixture
def sqlite_service(tmp_path):
    database = tmp_path / "faults.sqlite3"
    url = f"sqlite:///{database}"
    database_migrated(url)
    service = LiveService(free_port(), tmp_path / "service.log", {"DISPATCHER_DATABASE_URL": url}).start()
    yield service, database
    service.stop()


def _hold_write_lock(database, seconds: float, held: threading.Event) -> None:
    """An outside process's view of it: a plain sqlite3 connection in BEGIN EXCLUSIVE."""
    outsider = sqlite3.connect(database, timeout=0, isolation_level=None, check_same_thread=False)
    outsider.execute("BEGIN EXCLUSIVE")
    held.set()
    time.sleep(seconds)
    outsider.execute("ROLLBACK")
    outsider.close()


def test_sqlite_write_lock_held_outside_gives_503s_quickly_then_recovers(sqlite_service, token):
    service, database = sqlite_service
    assert _submit(service, token).status_code == 200
    held = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(database, HOLD_S, held))
    holder.start()
    try:
        assert held.wait(5)
        started = time.monotonic()
        # Several submissions at once, as clients would send them: each ends, none waits for the hold.
        answers: list = []
        submitters = [
            threading.Thread(target=lambda: answers.append(_timed(lambda: _submit(service, token)))) for _ in range(6)
        ]
        for submitter in submitters:
            submitter.start()
        time.sleep(0.3)
        health, health_s = _timed(lambda: requests.get(f"{service.url}/healthz", timeout=30))
        for submitter in submitters:
            submitter.join(30)
        still_held = time.monotonic() - started < HOLD_S - 0.5
    finally:
        holder.join(30)
    assert still_held, "the answers came only after the hold: they waited for it"
    assert health.status_code == 503 and health_s < 2, (health.status_code, health_s)
    assert health.json()["database"]["state"] == "locked"
    assert len(answers) == 6
    for answer, seconds in answers:
        _assert_json_503(answer)
        assert seconds < HOLD_S - 1
    # Once the outsider lets go, everything works.
    assert requests.get(f"{service.url}/healthz", timeout=5).status_code == 200
    assert _submit(service, token).status_code == 200


@pytest.fixture
def postgres_service(private_postgres: PrivatePostgres, tmp_path):
    database_migrated(private_postgres.url)
    service = LiveService(
        free_port(), tmp_path / "service.log", {"DISPATCHER_DATABASE_URL": private_postgres.url}
    ).start()
    yield service, private_postgres
    service.stop()
    private_postgres.start()


def test_postgresql_stopped_gives_503s_then_recovers(postgres_service, token):
    service, postgres = postgres_service
    assert _submit(service, token).status_code == 200
    postgres.stop()
    try:
        health, health_s = _timed(lambda: requests.get(f"{service.url}/healthz", timeout=30))
        assert health.status_code == 503 and health_s < 2, (health.status_code, health_s, health.text[:300])
        assert health.json()["database"]["state"].startswith("error")
        for _ in range(3):
            answer, seconds = _timed(lambda: _submit(service, token))
            _assert_json_503(answer)
            assert seconds < 5
        poll, _ = _timed(
            lambda: requests.get(
                f"{service.url}/api/v1/jobs/", headers={"Authorization": f"Bearer {token}"}, timeout=30
            )
        )
        _assert_json_503(poll)
    finally:
        postgres.start()
    # The service's connections were cut: it reconnects by itself.
    deadline = time.monotonic() + 20
    while requests.get(f"{service.url}/healthz", timeout=5).status_code != 200:
        assert time.monotonic() < deadline, "no recovery after the database came back"
        time.sleep(0.25)
    assert _submit(service, token).status_code == 200


def _slow_client(port: int) -> socket.socket:
    """Headers and part of a body, and then nothing: the connection stays open."""
    client = socket.create_connection(("127.0.0.1", port), timeout=5)
    client.sendall(
        b"POST /run_analysis HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 4096\r\n\r\ninstrument=emp"
    )
    return client


def test_fifty_slow_clients_leave_healthz_and_polls_answering_within_a_second(sqlite_service, token):
    service, _ = sqlite_service
    job_id = _submit(service, token).json()["job_monitor"]["job_id"]
    poll_params = {
        "instrument": "empty",
        "product_type": "dummy",
        "query_type": "Dummy",
        "query_status": "submitted",
        "job_id": job_id,
        "token": token,
    }
    slow = [_slow_client(service.port) for _ in range(50)]
    try:
        time.sleep(1)  # every slow request has reached the server
        for _ in range(3):
            health, health_s = _timed(lambda: requests.get(f"{service.url}/healthz", timeout=10))
            poll, poll_s = _timed(lambda: requests.get(f"{service.url}/run_analysis", params=poll_params, timeout=10))
            assert health.status_code == 200 and health_s < 1, (health.status_code, health_s)
            assert poll.status_code == 200 and poll_s < 1, (poll.status_code, poll_s)
            assert poll.json()["job_monitor"]["job_id"] == job_id
    finally:
        for client in slow:
            client.close()
