"""A real nb2workflow service for the tests, and a call-back receiver.

The service runs from its own virtualenv under ``var/venvs/nb2workflow`` (never the
project's: nb2workflow pins its own world, and oda-api must stay out of it, since
with it nb2workflow fetches an ontology from the internet on import). The
virtualenv is built from ``tests/nb2workflow-requirements.txt`` and rebuilt only
when that file changes (its hash is kept inside). The service serves a copy of
``tests/notebooks/`` on 127.0.0.1 for the whole session.

Import the fixtures into a test module: ``from tests.nb2w_server import nb2w_url``.
"""

from __future__ import annotations

import fcntl
import hashlib
import http.server
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "tests" / "nb2workflow-requirements.txt"
NOTEBOOKS = ROOT / "tests" / "notebooks"
VENV = ROOT / "var" / "venvs" / "nb2workflow"
MARKER = ".requirements-sha256"
START_TIMEOUT_S = 90.0


def nb2w_venv() -> Path:
    """The nb2workflow virtualenv, (re)built when the requirements file changed."""
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if _venv_matches(digest):
        return VENV
    VENV.parent.mkdir(parents=True, exist_ok=True)
    with open(VENV.parent / "nb2workflow.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two sessions at once build it once
        if not _venv_matches(digest):
            _venv_build(digest)
    return VENV


def _venv_matches(digest: str) -> bool:
    marker = VENV / MARKER
    return marker.is_file() and marker.read_text().strip() == digest and (VENV / "bin" / "nb2service").exists()


def _venv_build(digest: str) -> None:
    # Built in place (a virtualenv's scripts name their own path), the marker last:
    # an interrupted build is seen as missing and redone.
    shutil.rmtree(VENV, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    pip = [str(VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    result = subprocess.run([*pip, "-r", str(REQUIREMENTS)], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"installing {REQUIREMENTS.name} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    (VENV / MARKER).write_text(digest + "\n")


class PortTaken(RuntimeError):
    pass


class Nb2wService:
    """One ``nb2service`` process serving a directory of notebooks on 127.0.0.1."""

    def __init__(self, venv: Path, workdir: Path, source: Path = NOTEBOOKS, expected: str = "lightcurve"):
        self.venv = venv
        self.workdir = workdir
        self.source = source  # the notebooks served (copied), each a target named after its file
        self.expected = expected  # a target that tells our service from another on the same port
        self.notebooks = workdir / "notebooks"
        self.port = 0
        self.url = ""
        self.log_path = workdir / "nb2service.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, attempts: int = 4) -> None:
        shutil.copytree(self.source, self.notebooks)
        (self.workdir / "home").mkdir()
        for _ in range(attempts):
            # Another suite may take the same free port between the probe and our
            # bind: then try the next one.
            try:
                self._start_on(free_port())
                return
            except PortTaken:
                self.stop()
        raise RuntimeError(f"nb2service found no free port in {attempts} attempts:\n{self.log_tail()}")

    def _start_on(self, port: int) -> None:
        self.port, self.url = port, f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "HOME": str(self.workdir / "home"),
            "PATH": f"{self.venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
            "VIRTUAL_ENV": str(self.venv),
        }
        env.pop("PYTHONPATH", None)
        env.pop("DJANGO_SETTINGS_MODULE", None)
        command = [str(self.venv / "bin" / "nb2service"), "--host", "127.0.0.1", "--port", str(port)]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [*command, str(self.notebooks)],
                cwd=self.workdir,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop() ends the kernels too
            )
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if "Address already in use" in self.log_tail():
                raise PortTaken(self.port)
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"nb2service exited with {self.process.returncode}:\n{self.log_tail()}")
            if self._answers():
                return
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"nb2service did not answer within {START_TIMEOUT_S:g} s:\n{self.log_tail()}")

    def _answers(self) -> bool:
        """Ours answers, with our notebooks (not some other server on that port)."""
        try:
            response = requests.get(self.url + "/api/v1.0/options", timeout=2)
            return response.status_code == 200 and self.expected in response.json()
        except (requests.RequestException, ValueError):
            return False

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def log_tail(self, size: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-size:] if self.log_path.exists() else ""


@pytest.fixture(scope="session")
def nb2w_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nb2wService]:
    service = Nb2wService(nb2w_venv(), tmp_path_factory.mktemp("nb2w"))
    service.start()
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture(scope="session")
def nb2w_url(nb2w_service: Nb2wService) -> str:
    return nb2w_service.url


# --- call-backs -------------------------------------------------------------------


class CallbackReceiver:
    """An HTTP server on 127.0.0.1 that records every request it gets (path and query)."""

    def __init__(self) -> None:
        self.calls: list[dict[str, str]] = []
        self._changed = threading.Condition()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                call = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
                with receiver._changed:
                    receiver.calls.append({"_path": parts.path, **call})
                    receiver._changed.notify_all()
                body = b'{"time_spent_s": 0.0}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # quiet
                pass

        self.server = _bind_retrying(Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def wait_for(self, action: str, timeout_s: float = 60.0) -> dict[str, str]:
        """The first recorded call with ``action``; fails after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while True:
                for call in self.calls:
                    if call.get("action") == action:
                        return call
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no call-back with action={action} in {timeout_s:g} s; got {self.calls}")
                self._changed.wait(left)


def _bind_retrying(handler: type[http.server.BaseHTTPRequestHandler]) -> http.server.ThreadingHTTPServer:
    for _ in range(3):  # another suite may take the free port first
        try:
            return http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
        except OSError:
            continue
    return http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)


@pytest.fixture
def callback_receiver() -> Iterator[CallbackReceiver]:
    receiver = CallbackReceiver()
    receiver.thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()
