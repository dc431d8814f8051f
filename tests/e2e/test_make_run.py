"""A fresh `make run` (new data directory, no secrets yet) serves /healthz and stops cleanly."""

import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from tests.live import wait_healthy

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def test_make_run_answers_healthz_and_stops_on_sigterm(tmp_path, port):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DISPATCHER_")}
    environment.pop("DJANGO_SETTINGS_MODULE", None)
    environment.update(DISPATCHER_DATA_DIR=str(tmp_path / "var"), DISPATCHER_BIND=f"127.0.0.1:{port}")
    log = (tmp_path / "run.log").open("w+")
    process = subprocess.Popen(
        ["make", "run"], cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        body = wait_healthy(f"http://127.0.0.1:{port}/healthz", process, _tail(log), timeout_s=120).json()
        assert body["status"] == "ok"
        assert body["database"] == {"state": "ok", "vendor": "sqlite"}
        assert body["broker"] == {"state": "ok", "kind": "orm"}
        assert (tmp_path / "var" / "secret_key").exists()
        assert (tmp_path / "var" / "token_secret").exists()
        log.seek(0)
        assert "export ODA_TOKEN=" in log.read()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        exit_code = process.wait(timeout=40)
    assert exit_code == 0 or exit_code == -signal.SIGTERM
    # Nothing is left listening once it stopped.
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)


def _tail(log) -> Callable[[], str]:
    def read() -> str:
        log.seek(0)
        return log.read()[-3000:]

    return read
