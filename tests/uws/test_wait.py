"""Blocking reads: GET /uws/jobs/{id}?WAIT=n[&PHASE=p] returns on a phase change or after n seconds."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from jobs.interfaces.uws import waiting
from jobs.services import job_move
from jobs.states import Status
from tests.uws.conftest import SLOW, phase_of

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def cap(settings):
    settings.UWS_MAX_WAIT_S = 20
    return settings


def timed_get(uws, job_id, **params):
    started = time.monotonic()
    response = uws.get(f"/{job_id}", **params)
    return response, time.monotonic() - started


def move_later(job_id: str, to: Status, delay_s: float) -> threading.Thread:
    def move():
        try:
            time.sleep(delay_s)
            job_move(job_id=job_id, to=to)
        finally:
            connection.close()

    thread = threading.Thread(target=move)
    thread.start()
    return thread


def test_it_returns_as_soon_as_the_phase_changes(as_alice, valid_xml):
    job_id = as_alice.create(**SLOW, PHASE="RUN")
    mover = move_later(job_id, Status.PROGRESS, delay_s=1.0)
    response, elapsed = timed_get(as_alice, job_id, WAIT="15")
    mover.join()
    assert phase_of(valid_xml(response)) == "EXECUTING"
    assert 0.9 <= elapsed < 4, elapsed


def test_it_returns_after_n_seconds_when_nothing_changes(as_alice, valid_xml):
    job_id = as_alice.create()
    response, elapsed = timed_get(as_alice, job_id, WAIT="1")
    assert phase_of(valid_xml(response)) == "PENDING"
    assert 1.0 <= elapsed < 2.5, elapsed


@pytest.mark.parametrize("wait", ["60", "-1"])
def test_the_wait_is_capped_by_the_setting(as_alice, cap, wait):
    cap.UWS_MAX_WAIT_S = 1
    job_id = as_alice.create()
    response, elapsed = timed_get(as_alice, job_id, WAIT=wait)
    assert response.status_code == 200
    assert 1.0 <= elapsed < 2.5, elapsed


def test_a_phase_other_than_the_jobs_returns_at_once(as_alice, valid_xml):
    job_id = as_alice.create()
    response, elapsed = timed_get(as_alice, job_id, WAIT="10", PHASE="EXECUTING")
    assert phase_of(valid_xml(response)) == "PENDING"
    assert elapsed < 0.5, elapsed


def test_the_jobs_own_phase_waits_for_a_change(as_alice, valid_xml):
    job_id = as_alice.create(**SLOW, PHASE="RUN")
    mover = move_later(job_id, Status.FAILED, delay_s=0.8)
    response, elapsed = timed_get(as_alice, job_id, WAIT="10", PHASE="QUEUED")
    mover.join()
    assert phase_of(valid_xml(response)) == "ERROR"
    assert 0.7 <= elapsed < 4, elapsed


def test_a_finished_job_answers_at_once(as_alice, tasks_inline):
    job_id = as_alice.create(product_type="dummy", query_type="Dummy", PHASE="RUN")
    response, elapsed = timed_get(as_alice, job_id, WAIT="10")
    assert response.status_code == 200
    assert elapsed < 0.5, elapsed


def test_no_database_connection_is_held_while_sleeping(as_alice, monkeypatch):
    job_id = as_alice.create()
    real_sleep = time.sleep
    open_while_sleeping = []

    def sleep(seconds):
        open_while_sleeping.append(connection.connection is not None)
        real_sleep(seconds)

    monkeypatch.setattr(waiting.time, "sleep", sleep)
    response, _ = timed_get(as_alice, job_id, WAIT="1")
    assert response.status_code == 200
    assert len(open_while_sleeping) >= 2
    assert not any(open_while_sleeping)


def test_when_every_wait_slot_is_taken_it_answers_at_once(as_alice):
    job_id = as_alice.create()
    taken = [waiting._blocking_slots.acquire(blocking=False) for _ in range(waiting.MAX_BLOCKING_PER_PROCESS)]
    try:
        assert all(taken)
        response, elapsed = timed_get(as_alice, job_id, WAIT="10")
    finally:
        for _ in taken:
            waiting._blocking_slots.release()
    assert response.status_code == 200
    assert elapsed < 0.5, elapsed


def test_a_bad_wait_is_400(as_alice):
    job_id = as_alice.create()
    response = as_alice.get(f"/{job_id}", WAIT="soon")
    assert response.status_code == 400
    assert "WAIT" in response.content.decode()
